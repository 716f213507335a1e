// Glance's metadata definitions as glance-db holds them between a JSON
// document and the six metadef_* tables: one Namespace per document.
export interface Association {
  /** The resource type's name, e.g. OS::Glance::Image. */
  name: string;
  prefix: string | null;
  propertiesTarget: string | null;
}

export interface PropertyDef {
  name: string;
  /** The property's JSON schema, stored as JSON text in metadef_properties.json_schema. */
  schema: unknown;
}

export interface ObjectDef {
  name: string;
  description: string | null;
  /** Stored comma-joined in metadef_objects.required (NULL when empty), as Glance's object repository does. */
  required: string[];
  /** Property name to JSON schema, stored as JSON text in metadef_objects.json_schema. */
  properties: Record<string, unknown>;
}

export interface Namespace {
  namespace: string;
  displayName: string | null;
  description: string | null;
  visibility: string | null;
  protected: boolean | null;
  owner: string;
  associations: Association[];
  properties: PropertyDef[];
  objects: ObjectDef[];
  tags: string[];
}

export interface NamespaceFile {
  /** The file as the user named it (the folder joined with the file name). */
  file: string;
  ns: Namespace;
}

/** Glance's loader gives a namespace without an owner to "admin". */
export const DEFAULT_OWNER = 'admin';

/** Deep equality of parsed JSON values; key order does not matter, array order does. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
