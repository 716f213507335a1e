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
  /** The property's JSON schema, stored as JSON text in metadef_properties.json_schema; numbers are JsonNumbers, kept as written (json.ts). */
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
  /** The line of the file where the value at a JSON path starts (the deepest part of the path the file has). */
  line(path: (string | number)[]): number;
}

/** Glance's loader gives a namespace without an owner to "admin". */
export const DEFAULT_OWNER = 'admin';

/** Deep equality of JSON values, without recursion, numbers by exact value (json.ts). */
export { jsonEqual } from './json.js';
