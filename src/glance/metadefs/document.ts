// Reads a folder (or one file) of metadata definitions documents: every file
// is read, parsed and validated against schema/glance-metadefs.schema.json
// before anything touches the database, and every problem names the file,
// the line and the JSON path: `compute-quota.json:12: objects[0].name: must be string`.
// Bytes that are not UTF-8 are refused (with their offset), not replaced by
// U+FFFD; numbers keep the text they were written with (json.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { MetadefsInvalidError } from '../../platform/errors.js';
import { displayPath, schemaErrors } from '../../core/manifest/validate.js';
import { invalidUtf8At, JsonNumber, toPlain } from './json.js';
import { JsonSyntaxError, parseJson, type Parsed } from './json-parse.js';
import { DEFAULT_OWNER, type Namespace, type NamespaceFile } from './model.js';
import validator from './schema-validator.js';

/** Where Glance installs its definitions, and glance-manage's default. */
export const DEFAULT_METADEFS_PATH = '/etc/glance/metadefs';

/**
 * How deep a document may nest (the document's own braces count): Glance's
 * files nest under 10 levels. Glance reads json_schema with Python's json,
 * which gives up near 1,000 levels less its own call stack, so a property
 * much deeper loads here and then breaks Glance's metadefs API.
 */
export const MAX_DEPTH = 100;

/** At most this many problems are listed in one error. */
const MAX_LISTED = 50;

interface RawDoc {
  namespace: string;
  display_name?: string | null;
  description?: string | null;
  visibility?: string | null;
  /** 1 and 0: glance-manage's export from MySQL (the schema allows only these numbers). */
  protected?: boolean | null | JsonNumber;
  owner?: string;
  resource_type_associations?: { name: string; prefix?: string | null; properties_target?: string | null }[];
  properties?: Record<string, unknown>;
  objects?: { name: string; description?: string | null; required?: string[]; properties?: Record<string, unknown> }[];
  tags?: { name: string }[];
}

const hint =
  'Fix or remove the file(s) named above and run the load again. The format is described by schema/glance-metadefs.schema.json.';

/** The .json files a load reads from PATH: PATH itself when it is a file, else the .json files directly in it, by name. */
export function listDocuments(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MetadefsInvalidError(
      code === 'ENOENT'
        ? `The metadefs path ${path} does not exist.`
        : `The metadefs path ${path} cannot be read (${code}).`,
      {
        fields: { file: path },
        hint: `Pass the folder that holds Glance's metadefs JSON files (default ${DEFAULT_METADEFS_PATH}), or one file.`,
      },
    );
  }
  if (st.isFile()) return [path];
  let names: string[];
  try {
    names = readdirSync(path)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new MetadefsInvalidError(
      `The metadefs folder ${path} cannot be read (${(err as NodeJS.ErrnoException).code}).`,
      { fields: { file: path }, hint },
    );
  }
  const files = names
    .map((n) => join(path, n))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return true; // A dangling link: reported as unreadable below.
      }
    });
  if (files.length === 0) {
    throw new MetadefsInvalidError(`The metadefs folder ${path} holds no .json files.`, {
      fields: { file: path },
      hint: `Pass the folder that holds Glance's metadefs JSON files (default ${DEFAULT_METADEFS_PATH}); glance-manage reported this only in its log and exited 0.`,
    });
  }
  return files;
}

/** Reads and validates every document under path; throws one error listing every problem, before any write. */
export function readDocuments(path: string): NamespaceFile[] {
  const errors: string[] = [];
  const out: NamespaceFile[] = [];
  for (const file of listDocuments(path)) {
    const r = readDocument(file);
    if ('errors' in r) errors.push(...r.errors);
    else out.push(r);
  }
  const seen = new Map<string, string>();
  for (const d of out) {
    const other = seen.get(d.ns.namespace);
    if (other) errors.push(`${d.file}: namespace "${d.ns.namespace}" is also defined by ${other}`);
    else seen.set(d.ns.namespace, d.file);
  }
  if (errors.length > 0) throw invalidDefinitions('Invalid metadata definitions; nothing was loaded', errors);
  return out;
}

/** Exit 28 with every problem listed (at most MAX_LISTED shown in the message, all in the JSON's errors). */
export function invalidDefinitions(headline: string, errors: string[], why = hint): MetadefsInvalidError {
  const listed =
    errors.length > MAX_LISTED
      ? [...errors.slice(0, MAX_LISTED), `... and ${errors.length - MAX_LISTED} more`]
      : errors;
  return new MetadefsInvalidError(`${headline}:\n${listed.join('\n')}`, { fields: { errors }, hint: why });
}

/** A JSON path for a message: a deep one with its middle left out (`properties.p.default.a ... .a`, 100 levels). */
export function shortPath(path: (string | number)[]): string {
  if (path.length <= 12) return displayPath(path);
  const tail = displayPath(['', ...path.slice(-3)]).replace(/^\./, '');
  return `${displayPath(path.slice(0, 6))} ... ${tail} (${path.length} levels)`;
}

function readDocument(file: string): NamespaceFile | { errors: string[] } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    return { errors: [`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`] };
  }
  if (buf.includes(0)) return { errors: [`${file}: a binary file, not a JSON document`] };
  // Node would put U+FFFD in place of every byte that is not UTF-8, and that is what would be stored.
  const bad = invalidUtf8At(buf);
  if (bad >= 0) {
    const line = buf.subarray(0, bad).filter((b) => b === 0x0a).length + 1;
    return {
      errors: [
        `${file}:${line}: not UTF-8: byte ${bad} (0x${buf[bad].toString(16).padStart(2, '0')}) does not start or continue a UTF-8 character; save the file as UTF-8`,
      ],
    };
  }
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const lineAt = (offset: number) => {
    let n = 1;
    for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) n++;
    return n;
  };
  let parsed: Parsed;
  try {
    parsed = parseJson(text, { maxDepth: MAX_DEPTH, positions: true, checkRange: true });
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { errors: [`${file}:${lineAt(err.offset)}: invalid JSON: ${err.message}`] };
  }
  const line = (path: (string | number)[]) => lineAt(parsed.locate(path));
  if (parsed.problems.length > 0)
    return { errors: parsed.problems.map((p) => `${file}:${lineAt(p.offset)}: ${shortPath(p.path)}: ${p.message}`) };
  // glance-manage's export writes "properties": null for an object that it loaded without properties (it stored json.dumps(None)): none.
  const objects = (parsed.value as { objects?: unknown } | null)?.objects;
  if (Array.isArray(objects))
    for (const o of objects)
      if (o && typeof o === 'object' && (o as Record<string, unknown>).properties === null)
        delete (o as Record<string, unknown>).properties;
  // The validator reads plain numbers; the document keeps them as written (JsonNumber).
  const plain = toPlain(parsed.value);
  if (!validator(plain)) {
    // Line numbers of schema errors: JSON is YAML, so the manifest's machinery finds each node
    // (only on error: reading positions this way costs more than the load itself).
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false });
    return { errors: schemaErrors(plain, doc, lc, file, validator) };
  }
  const raw = parsed.value as RawDoc;
  const lists: [{ name: string }[], string, string][] = [
    [raw.resource_type_associations ?? [], 'resource_type_associations', 'resource type'],
    [raw.objects ?? [], 'objects', 'object'],
    [raw.tags ?? [], 'tags', 'tag'],
  ];
  if (lists.some(([items]) => new Set(items.map((x) => x.name)).size !== items.length)) {
    return { errors: lists.flatMap(([items, key, what]) => duplicates(file, line, items, key, what)) };
  }
  return { file, ns: toNamespace(raw), line };
}

function duplicates(
  file: string,
  line: (path: (string | number)[]) => number,
  items: { name: string }[],
  key: string,
  what: string,
): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  items.forEach((item, i) => {
    const segs = [key, i, 'name'];
    if (seen.has(item.name))
      out.push(`${file}:${line(segs)}: ${displayPath(segs)}: ${what} "${item.name}" appears twice`);
    seen.add(item.name);
  });
  return out;
}

function toNamespace(raw: RawDoc): Namespace {
  return {
    namespace: raw.namespace,
    displayName: raw.display_name ?? null,
    description: raw.description ?? null,
    visibility: raw.visibility ?? null,
    protected: raw.protected instanceof JsonNumber ? Number(raw.protected.text) === 1 : (raw.protected ?? null),
    owner: raw.owner ?? DEFAULT_OWNER,
    associations: (raw.resource_type_associations ?? []).map((a) => ({
      name: a.name,
      prefix: a.prefix ?? null,
      propertiesTarget: a.properties_target ?? null,
    })),
    properties: Object.entries(raw.properties ?? {}).map(([name, schema]) => ({ name, schema })),
    objects: (raw.objects ?? []).map((o) => ({
      name: o.name,
      description: o.description ?? null,
      required: o.required ?? [],
      properties: o.properties ?? {},
    })),
    tags: (raw.tags ?? []).map((t) => t.name),
  };
}

/** The document export writes for a namespace: what load reads back into the same rows. Nulls are left out. */
export function toDocument(ns: Namespace): Record<string, unknown> {
  const doc: Record<string, unknown> = { namespace: ns.namespace };
  if (ns.displayName !== null) doc.display_name = ns.displayName;
  if (ns.description !== null) doc.description = ns.description;
  if (ns.visibility !== null) doc.visibility = ns.visibility;
  if (ns.protected !== null) doc.protected = ns.protected;
  doc.owner = ns.owner;
  doc.resource_type_associations = ns.associations.map((a) => ({
    name: a.name,
    ...(a.prefix !== null ? { prefix: a.prefix } : {}),
    ...(a.propertiesTarget !== null ? { properties_target: a.propertiesTarget } : {}),
  }));
  doc.properties = Object.fromEntries(ns.properties.map((p) => [p.name, p.schema]));
  doc.objects = ns.objects.map((o) => ({
    name: o.name,
    ...(o.description !== null ? { description: o.description } : {}),
    ...(o.required.length > 0 ? { required: o.required } : {}),
    properties: o.properties,
  }));
  doc.tags = ns.tags.map((name) => ({ name }));
  return doc;
}
