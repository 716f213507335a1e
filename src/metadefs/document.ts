// Reads a folder (or one file) of metadata definitions documents: every file
// is read, parsed and validated against schema/glance-metadefs.schema.json
// before anything touches the database, and every problem names the file,
// the line and the JSON path: `compute-quota.json:12: objects[0].name: must be string`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { MetadefsInvalidError } from '../errors.js';
import { displayPath, lineOf, nodeAt, schemaErrors } from '../manifest/validate.js';
import { DEFAULT_OWNER, type Namespace, type NamespaceFile } from './model.js';
import validator from './schema-validator.js';

/** Where Glance installs its definitions, and glance-manage's default. */
export const DEFAULT_METADEFS_PATH = '/etc/glance/metadefs';

/** At most this many problems are listed in one error. */
const MAX_LISTED = 50;

interface RawDoc {
  namespace: string;
  display_name?: string | null;
  description?: string | null;
  visibility?: string | null;
  protected?: boolean | null;
  owner?: string;
  resource_type_associations?: { name: string; prefix?: string | null; properties_target?: string | null }[];
  properties?: Record<string, unknown>;
  objects?: { name: string; description?: string | null; required?: string[]; properties?: Record<string, unknown> }[];
  tags?: { name: string }[];
}

const hint = 'Fix or remove the file(s) named above and run the load again. The format is described by schema/glance-metadefs.schema.json.';

/** The .json files a load reads from PATH: PATH itself when it is a file, else the .json files directly in it, by name. */
export function listDocuments(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MetadefsInvalidError(code === 'ENOENT' ? `The metadefs path ${path} does not exist.` : `The metadefs path ${path} cannot be read (${code}).`, {
      fields: { file: path },
      hint: `Pass the folder that holds Glance's metadefs JSON files (default ${DEFAULT_METADEFS_PATH}), or one file.`,
    });
  }
  if (st.isFile()) return [path];
  let names: string[];
  try {
    names = readdirSync(path).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new MetadefsInvalidError(`The metadefs folder ${path} cannot be read (${(err as NodeJS.ErrnoException).code}).`, { fields: { file: path }, hint });
  }
  const files = names.map((n) => join(path, n)).filter((f) => {
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
  if (errors.length > 0) {
    const listed = errors.length > MAX_LISTED ? [...errors.slice(0, MAX_LISTED), `... and ${errors.length - MAX_LISTED} more`] : errors;
    throw new MetadefsInvalidError(`Invalid metadata definitions; nothing was loaded:\n${listed.join('\n')}`, { fields: { errors }, hint });
  }
  return out;
}

function readDocument(file: string): NamespaceFile | { errors: string[] } {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.includes(0)) return { errors: [`${file}: a binary file, not a JSON document`] };
    text = buf.toString('utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    return { errors: [`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`] };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { errors: [`${file}:${syntaxErrorLine(text, (err as Error).message)}: invalid JSON: ${syntaxMessage((err as Error).message)}`] };
  }
  // Line numbers: JSON is YAML, so the manifest's machinery finds each node.
  // Only wanted for an error: reading positions costs more than the load itself.
  const located = () => {
    const lc = new LineCounter();
    return { lc, doc: parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false }) };
  };
  if (!validator(data)) {
    const { doc, lc } = located();
    return { errors: schemaErrors(data, doc, lc, file, validator) };
  }
  const raw = data as RawDoc;
  const lists: [{ name: string }[], string, string][] = [
    [raw.resource_type_associations ?? [], 'resource_type_associations', 'resource type'],
    [raw.objects ?? [], 'objects', 'object'],
    [raw.tags ?? [], 'tags', 'tag'],
  ];
  if (lists.some(([items]) => new Set(items.map((x) => x.name)).size !== items.length)) {
    const { doc, lc } = located();
    return { errors: lists.flatMap(([items, key, what]) => duplicates(file, doc, lc, items, key, what)) };
  }
  return { file, ns: toNamespace(raw) };
}

function duplicates(file: string, doc: Document, lc: LineCounter, items: { name: string }[], key: string, what: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  items.forEach((item, i) => {
    const segs = [key, i, 'name'];
    if (seen.has(item.name)) out.push(`${file}:${lineOf(nodeAt(doc, segs), lc)}: ${displayPath(segs)}: ${what} "${item.name}" appears twice`);
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
    protected: raw.protected ?? null,
    owner: raw.owner ?? DEFAULT_OWNER,
    associations: (raw.resource_type_associations ?? []).map((a) => ({ name: a.name, prefix: a.prefix ?? null, propertiesTarget: a.properties_target ?? null })),
    properties: Object.entries(raw.properties ?? {}).map(([name, schema]) => ({ name, schema })),
    objects: (raw.objects ?? []).map((o) => ({ name: o.name, description: o.description ?? null, required: o.required ?? [], properties: o.properties ?? {} })),
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

/** The line of a JSON syntax error: from the message where Node gives a position, else from our own scan of the text. */
function syntaxErrorLine(text: string, message: string): number {
  const pos = /position (\d+)/.exec(message);
  const at = pos ? Number(pos[1]) : syntaxErrorOffset(text);
  return text.slice(0, at).split('\n').length;
}

/** Where a JSON text stops being JSON (Node 20's messages carry no position): a small recursive-descent scan. */
export function syntaxErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const str = () => {
    if (text[i] !== '"') fail();
    for (i++; i < text.length; i++) {
      const c = text[i];
      if (c === '"') return void i++;
      if (c < ' ') fail();
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
    }
    fail();
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
  } catch (at) {
    return Math.min(at as number, text.length);
  }
  return text.length;
}

/** Node's message on one line, without the quoted piece of the file. */
function syntaxMessage(message: string): string {
  const m = /^(Unexpected token '?.'?|Unexpected end of JSON input|Unexpected non-whitespace character after JSON|Expected [^,]+(?:, [^,]+)*? after [a-z ]+|Bad control character in string literal|Bad escaped character|Unterminated string)/.exec(message);
  return (m ? m[1] : message).replace(/ in JSON at position \d+.*$/s, '').replace(/\s+/g, ' ').trim();
}
