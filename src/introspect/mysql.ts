// MySQL/MariaDB introspection from information_schema. Generated names
// (CONSTRAINT_1 checks, *_ibfk_N foreign keys) are left out of the model;
// index names, which Glance chose, are kept. An AUTO_INCREMENT column gets
// the default `auto_increment`, so serial keys compare like PostgreSQL's.
import type { Query, SchemaModel, TableModel } from './model.js';

const byJson = <T>(a: T, b: T) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** MariaDB reports defaults as SQL: NULL, 0, 'active'. MySQL reports the bare value. */
export function normalizeMysqlDefault(d: unknown, extra: unknown, type: string): string | null {
  if (/auto_increment/i.test(String(extra ?? ''))) return 'auto_increment';
  if (d === null || d === undefined || String(d).toUpperCase() === 'NULL') return null;
  const s = String(d);
  if (/^'.*'$/s.test(s) || /^-?\d+(\.\d+)?$/.test(s) || /\(.*\)$/.test(s)) return s;
  // MySQL 8 gives string defaults unquoted.
  return /char|text|enum|set/i.test(type) ? `'${s}'` : s;
}

function normalizeCheck(clause: string): string {
  return clause.replace(/`/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

function emptyTable(name: string, engine: string, collation: string): TableModel {
  return { name, columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [], checks: [], options: { engine, collation } };
}

async function checks(query: Query, db: string): Promise<Record<string, unknown>[]> {
  try {
    // MariaDB: CHECK_CONSTRAINTS has TABLE_NAME, and check names repeat across tables.
    return await query('SELECT TABLE_NAME AS t, CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?', [db]);
  } catch {
    return query(`SELECT tc.TABLE_NAME AS t, cc.CHECK_CLAUSE AS c FROM information_schema.TABLE_CONSTRAINTS tc
      JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
      WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA = ?`, [db]);
  }
}

async function addIndexes(query: Query, db: string, tables: Record<string, TableModel>): Promise<void> {
  const rows = await query(`SELECT TABLE_NAME AS t, INDEX_NAME AS i, NON_UNIQUE AS nu, COLUMN_NAME AS c
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`, [db]);
  const groups = new Map<string, { t: string; i: string; unique: boolean; cols: string[] }>();
  for (const r of rows) {
    const k = `${r.t}\u0000${r.i}`;
    const g = groups.get(k) ?? { t: String(r.t), i: String(r.i), unique: Number(r.nu) === 0, cols: [] };
    g.cols.push(String(r.c));
    groups.set(k, g);
  }
  for (const g of groups.values()) {
    const t = tables[g.t];
    if (!t) continue;
    if (g.i === 'PRIMARY') t.primaryKey = g.cols;
    else if (g.unique) t.uniques.push({ name: g.i, columns: g.cols });
    else t.indexes.push({ name: g.i, columns: g.cols, unique: false });
  }
}

async function addForeignKeys(query: Query, db: string, tables: Record<string, TableModel>): Promise<void> {
  const rows = await query(`SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
    FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL
    ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`, [db]);
  const groups = new Map<string, { t: string; fk: { columns: string[]; refTable: string; refColumns: string[] } }>();
  for (const r of rows) {
    const k = `${r.t}\u0000${r.n}`;
    const g = groups.get(k) ?? { t: String(r.t), fk: { columns: [], refTable: String(r.rt), refColumns: [] } };
    g.fk.columns.push(String(r.c));
    g.fk.refColumns.push(String(r.rc));
    groups.set(k, g);
  }
  for (const g of groups.values()) tables[g.t]?.foreignKeys.push(g.fk);
}

export async function introspectMysql(query: Query, database: string): Promise<SchemaModel> {
  const tables: Record<string, TableModel> = {};
  const trows = await query("SELECT TABLE_NAME AS t, ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [database]);
  for (const r of trows) tables[String(r.t)] = emptyTable(String(r.t), String(r.e), String(r.c));
  const cols = await query(`SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ty, IS_NULLABLE AS n, COLUMN_DEFAULT AS d, EXTRA AS x, COLLATION_NAME AS co
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, [database]);
  for (const r of cols) {
    const type = String(r.ty).toLowerCase().replace(/\s+/g, '');
    const t = tables[String(r.t)];
    if (!t) continue;
    t.columns[String(r.c)] = { name: String(r.c), type, nullable: r.n === 'YES', default: normalizeMysqlDefault(r.d, r.x, type) };
    // A text column in another character set or collation than its table's (ALTER ... MODIFY ... CHARACTER SET).
    if (r.co != null && String(r.co) !== t.options.collation) t.columns[String(r.c)].collation = String(r.co);
  }
  await addIndexes(query, database, tables);
  await addForeignKeys(query, database, tables);
  for (const r of await checks(query, database)) tables[String(r.t)]?.checks.push(normalizeCheck(String(r.c)));
  for (const t of Object.values(tables)) {
    t.uniques.sort(byJson);
    t.indexes.sort((a, b) => a.name.localeCompare(b.name));
    t.foreignKeys.sort(byJson);
    t.checks.sort();
  }
  return { dialect: 'mysql', tables, enums: {} };
}
