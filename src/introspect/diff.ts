// Compares two normalized schema models and lists every difference in words
// an operator can act on ("images: missing index os_hidden_image_idx").
// "missing" means expected but not found in the actual database.
import type { SchemaModel, TableModel } from './model.js';

export interface DiffOptions {
  /** Tables that are not part of the compared schema (version tables). */
  ignoreTables?: string[];
}

const key = (v: unknown) => JSON.stringify(v);

function setDiff<T>(label: string, what: string, expected: T[], actual: T[], show: (v: T) => string): string[] {
  const exp = new Map(expected.map((v) => [key(v), v]));
  const act = new Map(actual.map((v) => [key(v), v]));
  const out: string[] = [];
  for (const [k, v] of exp) if (!act.has(k)) out.push(`${label}: missing ${what} ${show(v)}`);
  for (const [k, v] of act) if (!exp.has(k)) out.push(`${label}: unexpected ${what} ${show(v)}`);
  return out;
}

function diffColumns(e: TableModel, a: TableModel): string[] {
  const out: string[] = [];
  for (const [name, ec] of Object.entries(e.columns)) {
    const ac = a.columns[name];
    if (!ac) {
      out.push(`${e.name}: missing column ${name} ${ec.type}`);
      continue;
    }
    if (ec.type !== ac.type) out.push(`${e.name}.${name}: type is ${ac.type}, expected ${ec.type}`);
    if (ec.nullable !== ac.nullable) out.push(`${e.name}.${name}: is ${ac.nullable ? 'NULL' : 'NOT NULL'}, expected ${ec.nullable ? 'NULL' : 'NOT NULL'}`);
    if (ec.default !== ac.default) out.push(`${e.name}.${name}: default is ${ac.default ?? 'none'}, expected ${ec.default ?? 'none'}`);
    // MySQL: a column's own character set/collation, where it is not its table's.
    const [ecol, acol] = [ec.collation ?? e.options.collation, ac.collation ?? a.options.collation];
    if (ecol !== acol && /char|text|enum|set/.test(ac.type)) out.push(`${e.name}.${name}: character set/collation is ${acol}, expected ${ecol}`);
  }
  for (const [name, ac] of Object.entries(a.columns)) if (!e.columns[name]) out.push(`${e.name}: unexpected column ${name} ${ac.type}`);
  return out;
}

function diffTable(e: TableModel, a: TableModel): string[] {
  const cols = (c: string[]) => `(${c.join(', ')})`;
  const out = diffColumns(e, a);
  if (key(e.primaryKey) !== key(a.primaryKey)) out.push(`${e.name}: primary key is ${cols(a.primaryKey)}, expected ${cols(e.primaryKey)}`);
  out.push(...setDiff(e.name, 'unique constraint', e.uniques, a.uniques, (u) => `${u.name ?? ''}${cols(u.columns)}`));
  out.push(...setDiff(e.name, 'index', e.indexes, a.indexes, (i) => `${i.name}${cols(i.columns)}${i.unique ? ' unique' : ''}`));
  out.push(...setDiff(e.name, 'foreign key', e.foreignKeys, a.foreignKeys, (f) => `${cols(f.columns)} -> ${f.refTable}${cols(f.refColumns)}`));
  out.push(...setDiff(e.name, 'check constraint', e.checks, a.checks, (c) => `CHECK (${c})`));
  for (const k of new Set([...Object.keys(e.options), ...Object.keys(a.options)])) {
    if (e.options[k] !== a.options[k]) out.push(`${e.name}: ${k} is ${a.options[k] ?? 'unset'}, expected ${e.options[k] ?? 'unset'}`);
  }
  return out;
}

export function diffSchemas(expected: SchemaModel, actual: SchemaModel, opts: DiffOptions = {}): string[] {
  const ignore = new Set(opts.ignoreTables ?? []);
  const out: string[] = [];
  const names = [...new Set([...Object.keys(expected.tables), ...Object.keys(actual.tables)])].filter((n) => !ignore.has(n)).sort();
  for (const n of names) {
    const e = expected.tables[n];
    const a = actual.tables[n];
    if (!a) out.push(`missing table ${n}`);
    else if (!e) out.push(`unexpected table ${n}`);
    else out.push(...diffTable(e, a));
  }
  for (const n of new Set([...Object.keys(expected.enums), ...Object.keys(actual.enums)])) {
    const [e, a] = [expected.enums[n], actual.enums[n]];
    if (key(e) !== key(a)) out.push(!a ? `missing enum type ${n}` : !e ? `unexpected enum type ${n}` : `enum ${n} is (${a.join(', ')}), expected (${e.join(', ')})`);
  }
  return out;
}
