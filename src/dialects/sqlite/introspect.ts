// SQLite introspection: sqlite_master and the table/index/foreign-key
// pragmas, plus CHECK and named UNIQUE constraints parsed from the CREATE
// TABLE text (SQLite keeps no catalog of them).
import type {
  ColumnModel,
  ForeignKeyModel,
  IndexModel,
  ObjectModel,
  Query,
  SchemaModel,
  TableModel,
  UniqueModel,
} from '../../core/introspect/model.js';
import { normalizeSql, sortObjects, sqlTokens } from '../../core/introspect/normalize.js';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const norm = (s: string) =>
  squash(s)
    .toLowerCase()
    .replace(/\s*([(),])\s*/g, '$1')
    .replace(/,/g, ', ');

/** `(0)`, `0`, `'active'`: one spelling per default. */
/** An identifier as SQLite reads it inside double quotes: a table or index a user named `a"b` must not break the query. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

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

async function columnsOf(
  q: Query,
  table: string,
): Promise<{ columns: Record<string, ColumnModel>; primaryKey: string[] }> {
  const rows = await q(`PRAGMA table_info(${quoteIdent(table)})`);
  const columns: Record<string, ColumnModel> = {};
  for (const r of rows) {
    const name = String(r.name);
    columns[name] = {
      name,
      type: String(r.type).toLowerCase().replace(/\s+/g, ''),
      nullable: Number(r.notnull) === 0 && Number(r.pk) === 0,
      default: normalizeDefault(r.dflt_value),
    };
  }
  const primaryKey = rows
    .filter((r) => Number(r.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((r) => String(r.name));
  return { columns, primaryKey };
}

/** The parts of a CREATE INDEX text: each key's text (expressions included) and the WHERE predicate. */
export function indexParts(sql: string): { keys: string[]; where: string | null } {
  const on = /\bON\s+("[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$]+)\s*\(/i.exec(sql);
  if (!on) return { keys: [], where: null };
  const open = on.index + on[0].length - 1;
  let depth = 0;
  let quote: string | null = null;
  let close = -1;
  for (let i = open; i < sql.length && close < 0; i++) {
    const c = sql[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) close = i;
  }
  if (close < 0) return { keys: [], where: null };
  const keys = bodyParts(`(${sql.slice(open + 1, close)})`);
  const rest = /^\s*WHERE\b([\s\S]*)$/i.exec(sql.slice(close + 1));
  return { keys, where: rest ? normalizeSql(rest[1]) : null };
}

/** An expression key without its ordering and collation words: `LOWER(name) DESC` -> `lower(name)`. */
function expressionKey(part: string): string {
  return normalizeSql(part).replace(/( collate [^ ]+)?( asc| desc)?$/, '');
}

async function indexesOf(
  q: Query,
  table: string,
  sqlOf: Map<string, string>,
): Promise<{ indexes: IndexModel[]; autoUniques: string[][] }> {
  const indexes: IndexModel[] = [];
  const autoUniques: string[][] = [];
  for (const ix of await q(`PRAGMA index_list(${quoteIdent(table)})`)) {
    const info = (await q(`PRAGMA index_info(${quoteIdent(String(ix.name))})`)).sort(
      (a, b) => Number(a.seqno) - Number(b.seqno),
    );
    const parts = ix.origin === 'c' ? indexParts(sqlOf.get(String(ix.name)) ?? '') : { keys: [], where: null };
    // An expression key has no column name: its text, from the CREATE INDEX statement.
    const cols = info.map((c, i) =>
      c.name === null || c.name === undefined ? expressionKey(parts.keys[i] ?? '?') : String(c.name),
    );
    if (ix.origin === 'c')
      indexes.push({
        name: String(ix.name),
        columns: cols,
        unique: Number(ix.unique) === 1,
        ...(parts.where !== null ? { where: parts.where } : {}),
      });
    else if (ix.origin === 'u') autoUniques.push(cols);
  }
  return { indexes: indexes.sort((a, b) => a.name.localeCompare(b.name)), autoUniques };
}

async function foreignKeysOf(q: Query, table: string): Promise<ForeignKeyModel[]> {
  const byId = new Map<number, ForeignKeyModel>();
  for (const r of await q(`PRAGMA foreign_key_list(${quoteIdent(table)})`)) {
    const fk = byId.get(Number(r.id)) ?? {
      columns: [],
      refTable: String(r.table),
      refColumns: [],
      onDelete: String(r.on_delete).toUpperCase(),
      onUpdate: String(r.on_update).toUpperCase(),
    };
    fk.columns.push(String(r.from));
    fk.refColumns.push(String(r.to));
    byId.set(Number(r.id), fk);
  }
  return [...byId.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function tableModel(q: Query, name: string, sql: string, indexSql: Map<string, string>): Promise<TableModel> {
  const { columns, primaryKey } = await columnsOf(q, name);
  const { indexes, autoUniques } = await indexesOf(q, name, indexSql);
  const { checks, uniques } = constraintsOf(sql);
  // Unnamed UNIQUE constraints (and UNIQUE columns) show only as autoindexes.
  for (const cols of autoUniques)
    if (!uniques.some((u) => JSON.stringify(u.columns) === JSON.stringify(cols)))
      uniques.push({ name: null, columns: cols });
  uniques.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    name,
    columns,
    primaryKey,
    uniques,
    indexes,
    foreignKeys: await foreignKeysOf(q, name),
    checks,
    options: {},
  };
}

/** `BEFORE INSERT`, `AFTER UPDATE OF a, b`, `INSTEAD OF DELETE`: from a trigger's normalized tokens. */
export function sqliteTriggerSummary(sql: string): string {
  const t = sqlTokens(sql);
  let i = t.indexOf('trigger') + 1;
  if (t[i] === 'if' && t[i + 1] === 'not' && t[i + 2] === 'exists') i += 3;
  i++; // the name
  if (t[i] === '.') i += 2; // schema.name: the name after the dot
  let timing = 'BEFORE';
  if (t[i] === 'before' || t[i] === 'after') timing = t[i++].toUpperCase();
  else if (t[i] === 'instead' && t[i + 1] === 'of') {
    timing = 'INSTEAD OF';
    i += 2;
  }
  const event = (t[i] ?? '').toUpperCase();
  const of: string[] = [];
  if (event === 'UPDATE' && t[i + 1] === 'of') {
    for (let j = i + 2; j < t.length && t[j] !== 'on'; j++) if (t[j] !== ',') of.push(t[j]);
  }
  return `${timing} ${event}${of.length ? ` OF ${of.join(', ')}` : ''}`;
}

/** CREATE TRIGGER IF NOT EXISTS / CREATE TEMP VIEW: one spelling for the statement head. */
const normalizeCreate = (sql: string) =>
  normalizeSql(sql).replace(/^create (temp |temporary )?(trigger|view) (if not exists )?/, 'create $2 ');

export async function introspectSqlite(query: Query): Promise<SchemaModel> {
  const tables: Record<string, TableModel> = {};
  const master = await query(
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
  );
  const indexSql = new Map(
    master.filter((r) => r.type === 'index' && r.sql !== null).map((r) => [String(r.name), String(r.sql)]),
  );
  for (const r of master.filter((x) => x.type === 'table'))
    tables[String(r.name)] = await tableModel(query, String(r.name), String(r.sql), indexSql);
  const objects: ObjectModel[] = [];
  for (const r of master) {
    if (r.type === 'trigger')
      objects.push({
        type: 'trigger',
        name: String(r.name),
        table: String(r.tbl_name),
        summary: sqliteTriggerSummary(String(r.sql)),
        definition: normalizeCreate(String(r.sql)),
      });
    else if (r.type === 'view')
      objects.push({
        type: 'view',
        name: String(r.name),
        table: null,
        summary: '',
        definition: normalizeCreate(String(r.sql)),
      });
  }
  return { dialect: 'sqlite', tables, enums: {}, objects: sortObjects(objects) };
}
