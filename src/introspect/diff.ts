// Compares two normalized schema models and lists every difference in words
// an operator can act on ("images: missing index os_hidden_image_idx"), and
// as objects for scripts ({kind, table, object, expected, actual, text}).
// "missing" means expected but not found in the actual database.
import type { SchemaModel, TableModel } from './model.js';

export interface DiffOptions {
  /** Tables that are not part of the compared schema (version tables). */
  ignoreTables?: string[];
}

/** One difference; `text` is the sentence glance-db prints. JSON shape: schema/output.schema.json. */
export interface Difference {
  /** missing-table, unexpected-column, column-type, missing-index, table-option, enum-values, ... */
  kind: string;
  /** The table concerned (null for a PostgreSQL enum type). */
  table: string | null;
  /** The column, index, constraint, option or enum concerned (null for a whole table). */
  object: string | null;
  /** What the version's schema has (null: absent). */
  expected: string | null;
  /** What the database has (null: absent). */
  actual: string | null;
  text: string;
}

const key = (v: unknown) => JSON.stringify(v);
const d = (kind: string, table: string | null, object: string | null, expected: string | null, actual: string | null, text: string): Difference => ({ kind, table, object, expected, actual, text });

function setDiff<T>(table: string, what: string, kind: string, expected: T[], actual: T[], show: (v: T) => string, name: (v: T) => string): Difference[] {
  const exp = new Map(expected.map((v) => [key(v), v]));
  const act = new Map(actual.map((v) => [key(v), v]));
  const out: Difference[] = [];
  for (const [k, v] of exp) if (!act.has(k)) out.push(d(`missing-${kind}`, table, name(v), show(v), null, `${table}: missing ${what} ${show(v)}`));
  for (const [k, v] of act) if (!exp.has(k)) out.push(d(`unexpected-${kind}`, table, name(v), null, show(v), `${table}: unexpected ${what} ${show(v)}`));
  return out;
}

function diffColumns(e: TableModel, a: TableModel): Difference[] {
  const out: Difference[] = [];
  const t = e.name;
  for (const [name, ec] of Object.entries(e.columns)) {
    const ac = a.columns[name];
    if (!ac) {
      out.push(d('missing-column', t, name, ec.type, null, `${t}: missing column ${name} ${ec.type}`));
      continue;
    }
    if (ec.type !== ac.type) out.push(d('column-type', t, name, ec.type, ac.type, `${t}.${name}: type is ${ac.type}, expected ${ec.type}`));
    const nul = (n: boolean) => (n ? 'NULL' : 'NOT NULL');
    if (ec.nullable !== ac.nullable) out.push(d('column-nullable', t, name, nul(ec.nullable), nul(ac.nullable), `${t}.${name}: is ${nul(ac.nullable)}, expected ${nul(ec.nullable)}`));
    if (ec.default !== ac.default) out.push(d('column-default', t, name, ec.default, ac.default, `${t}.${name}: default is ${ac.default ?? 'none'}, expected ${ec.default ?? 'none'}`));
    // MySQL: a column's own character set/collation, where it is not its table's.
    const [ecol, acol] = [ec.collation ?? e.options.collation, ac.collation ?? a.options.collation];
    // A column that follows its table's collation on both sides changes with the table: the table-option line names it once.
    const followsTable = ec.collation === undefined && ac.collation === undefined;
    if (ecol !== acol && !followsTable && /char|text|enum|set/.test(ac.type)) out.push(d('column-collation', t, name, ecol ?? null, acol ?? null, `${t}.${name}: character set/collation is ${acol}, expected ${ecol}`));
  }
  for (const [name, ac] of Object.entries(a.columns)) if (!e.columns[name]) out.push(d('unexpected-column', t, name, null, ac.type, `${t}: unexpected column ${name} ${ac.type}`));
  return out;
}

function diffTable(e: TableModel, a: TableModel): Difference[] {
  const cols = (c: string[]) => `(${c.join(', ')})`;
  const t = e.name;
  const out = diffColumns(e, a);
  if (key(e.primaryKey) !== key(a.primaryKey)) out.push(d('primary-key', t, null, cols(e.primaryKey), cols(a.primaryKey), `${t}: primary key is ${cols(a.primaryKey)}, expected ${cols(e.primaryKey)}`));
  out.push(...setDiff(t, 'unique constraint', 'unique-constraint', e.uniques, a.uniques, (u) => `${u.name ?? ''}${cols(u.columns)}`, (u) => u.name ?? cols(u.columns)));
  out.push(...setDiff(t, 'index', 'index', e.indexes, a.indexes, (i) => `${i.name}${cols(i.columns)}${i.unique ? ' unique' : ''}`, (i) => i.name));
  out.push(...setDiff(t, 'foreign key', 'foreign-key', e.foreignKeys, a.foreignKeys, (f) => `${cols(f.columns)} -> ${f.refTable}${cols(f.refColumns)}`, (f) => cols(f.columns)));
  out.push(...setDiff(t, 'check constraint', 'check-constraint', e.checks, a.checks, (c) => `CHECK (${c})`, (c) => `CHECK (${c})`));
  for (const k of new Set([...Object.keys(e.options), ...Object.keys(a.options)])) {
    if (e.options[k] !== a.options[k]) out.push(d('table-option', t, k, e.options[k] ?? null, a.options[k] ?? null, `${t}: ${k} is ${a.options[k] ?? 'unset'}, expected ${e.options[k] ?? 'unset'}`));
  }
  return out;
}

/** Every difference, as objects. */
export function schemaDiff(expected: SchemaModel, actual: SchemaModel, opts: DiffOptions = {}): Difference[] {
  const ignore = new Set(opts.ignoreTables ?? []);
  const out: Difference[] = [];
  const names = [...new Set([...Object.keys(expected.tables), ...Object.keys(actual.tables)])].filter((n) => !ignore.has(n)).sort();
  for (const n of names) {
    const e = expected.tables[n];
    const a = actual.tables[n];
    if (!a) out.push(d('missing-table', n, null, n, null, `missing table ${n}`));
    else if (!e) out.push(d('unexpected-table', n, null, null, n, `unexpected table ${n}`));
    else out.push(...diffTable(e, a));
  }
  for (const n of new Set([...Object.keys(expected.enums), ...Object.keys(actual.enums)])) {
    const [e, a] = [expected.enums[n], actual.enums[n]];
    const list = (v: string[]) => `(${v.join(', ')})`;
    if (key(e) !== key(a)) {
      out.push(!a ? d('missing-enum', null, n, list(e), null, `missing enum type ${n}`) : !e ? d('unexpected-enum', null, n, null, list(a), `unexpected enum type ${n}`) : d('enum-values', null, n, list(e), list(a), `enum ${n} is ${list(a)}, expected ${list(e)}`));
    }
  }
  for (const x of out) seen.set(x.text, x);
  return out;
}

/** Every difference this process has found, by its words: the engine passes words around, JSON output wants the objects. */
const seen = new Map<string, Difference>();

/** The object behind a difference's words (one recorded earlier, e.g. in a note, gets kind "other"). */
export function differenceOf(text: string | Difference): Difference {
  if (typeof text !== 'string') return text;
  return seen.get(text) ?? { kind: 'other', table: /^([A-Za-z0-9_]+)[.:]/.exec(text)?.[1] ?? null, object: null, expected: null, actual: null, text };
}

/** Every difference, in words. */
export function diffSchemas(expected: SchemaModel, actual: SchemaModel, opts: DiffOptions = {}): string[] {
  return schemaDiff(expected, actual, opts).map((x) => x.text);
}
