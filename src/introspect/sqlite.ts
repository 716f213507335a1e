// SQLite introspection: sqlite_master and the table/index/foreign-key
// pragmas, plus CHECK and named UNIQUE constraints parsed from the CREATE
// TABLE text (SQLite keeps no catalog of them).
import type { ColumnModel, ForeignKeyModel, IndexModel, Query, SchemaModel, TableModel, UniqueModel } from './model.js';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const norm = (s: string) => squash(s).toLowerCase().replace(/\s*([(),])\s*/g, '$1').replace(/,/g, ', ');

/** `(0)`, `0`, `'active'`: one spelling per default. */
export function normalizeDefault(d: unknown): string | null {
  if (d === null || d === undefined) return null;
  let s = String(d).trim();
  while (/^\(.*\)$/.test(s) && balanced(s.slice(1, -1))) s = s.slice(1, -1).trim();
  return s.toLowerCase() === 'null' ? null : s;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Top-level comma-separated parts of the CREATE TABLE body. */
function bodyParts(sql: string): string[] {
  const open = sql.indexOf('(');
  const body = sql.slice(open + 1, sql.lastIndexOf(')'));
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (const c of body) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

const unquote = (s: string) => s.trim().replace(/^["`[]|["`\]]$/g, '');

function constraintsOf(sql: string): { checks: string[]; uniques: UniqueModel[] } {
  const checks: string[] = [];
  const uniques: UniqueModel[] = [];
  for (const part of bodyParts(sql)) {
    const named = /^constraint\s+("?[\w$]+"?)\s+(.*)$/is.exec(part);
    const name = named ? unquote(named[1]) : null;
    const rest = named ? named[2] : part;
    const check = /^check\s*\((.*)\)$/is.exec(rest) ?? /\bcheck\s*\((.*)\)\s*$/is.exec(rest);
    if (check && (named || /^check/i.test(rest) || /\bcheck\s*\(/i.test(rest))) checks.push(norm(check[1]));
    const unique = /^unique\s*\((.*)\)$/is.exec(rest);
    if (unique) uniques.push({ name, columns: unique[1].split(',').map(unquote) });
  }
  return { checks: checks.sort(), uniques };
}

async function columnsOf(q: Query, table: string): Promise<{ columns: Record<string, ColumnModel>; primaryKey: string[] }> {
  const rows = await q(`PRAGMA table_info("${table}")`);
  const columns: Record<string, ColumnModel> = {};
  for (const r of rows) {
    const name = String(r.name);
    columns[name] = { name, type: String(r.type).toLowerCase().replace(/\s+/g, ''), nullable: Number(r.notnull) === 0 && Number(r.pk) === 0, default: normalizeDefault(r.dflt_value) };
  }
  const primaryKey = rows.filter((r) => Number(r.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).map((r) => String(r.name));
  return { columns, primaryKey };
}

async function indexesOf(q: Query, table: string): Promise<{ indexes: IndexModel[]; autoUniques: string[][] }> {
  const indexes: IndexModel[] = [];
  const autoUniques: string[][] = [];
  for (const ix of await q(`PRAGMA index_list("${table}")`)) {
    const cols = (await q(`PRAGMA index_info("${String(ix.name)}")`)).sort((a, b) => Number(a.seqno) - Number(b.seqno)).map((c) => String(c.name));
    if (ix.origin === 'c') indexes.push({ name: String(ix.name), columns: cols, unique: Number(ix.unique) === 1 });
    else if (ix.origin === 'u') autoUniques.push(cols);
  }
  return { indexes: indexes.sort((a, b) => a.name.localeCompare(b.name)), autoUniques };
}

async function foreignKeysOf(q: Query, table: string): Promise<ForeignKeyModel[]> {
  const byId = new Map<number, ForeignKeyModel>();
  for (const r of await q(`PRAGMA foreign_key_list("${table}")`)) {
    const fk = byId.get(Number(r.id)) ?? { columns: [], refTable: String(r.table), refColumns: [] };
    fk.columns.push(String(r.from));
    fk.refColumns.push(String(r.to));
    byId.set(Number(r.id), fk);
  }
  return [...byId.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function tableModel(q: Query, name: string, sql: string): Promise<TableModel> {
  const { columns, primaryKey } = await columnsOf(q, name);
  const { indexes, autoUniques } = await indexesOf(q, name);
  const { checks, uniques } = constraintsOf(sql);
  // Unnamed UNIQUE constraints (and UNIQUE columns) show only as autoindexes.
  for (const cols of autoUniques) if (!uniques.some((u) => JSON.stringify(u.columns) === JSON.stringify(cols))) uniques.push({ name: null, columns: cols });
  uniques.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return { name, columns, primaryKey, uniques, indexes, foreignKeys: await foreignKeysOf(q, name), checks, options: {} };
}

export async function introspectSqlite(query: Query): Promise<SchemaModel> {
  const tables: Record<string, TableModel> = {};
  const rows = await query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  for (const r of rows) tables[String(r.name)] = await tableModel(query, String(r.name), String(r.sql));
  return { dialect: 'sqlite', tables, enums: {} };
}
