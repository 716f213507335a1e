// MySQL/MariaDB introspection from information_schema. Generated names
// (CONSTRAINT_1 checks, *_ibfk_N foreign keys) are left out of the model;
// index names, which the schema's authors chose, are kept. An AUTO_INCREMENT column gets
// the default `auto_increment`, so serial keys compare like PostgreSQL's.
import type { ObjectModel, Query, SchemaModel, TableModel } from '../../core/introspect/model.js';
import { normalizeSql, sortObjects } from '../../core/introspect/normalize.js';

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
  return {
    name,
    columns: {},
    primaryKey: [],
    uniques: [],
    indexes: [],
    foreignKeys: [],
    checks: [],
    options: { engine, collation },
  };
}

async function checks(query: Query, db: string): Promise<Record<string, unknown>[]> {
  try {
    // MariaDB: CHECK_CONSTRAINTS has TABLE_NAME, and check names repeat across tables.
    return await query(
      'SELECT TABLE_NAME AS t, CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?',
      [db],
    );
  } catch {
    return query(
      `SELECT tc.TABLE_NAME AS t, cc.CHECK_CLAUSE AS c FROM information_schema.TABLE_CONSTRAINTS tc
      JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
      WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA = ?`,
      [db],
    );
  }
}

async function indexRows(query: Query, db: string): Promise<Record<string, unknown>[]> {
  const sql = (x: string) => `SELECT TABLE_NAME AS t, INDEX_NAME AS i, NON_UNIQUE AS nu, COLUMN_NAME AS c${x}
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`;
  try {
    // MySQL 8.0.13+: a functional key part has no column, its expression instead.
    return await query(sql(', EXPRESSION AS x'), [db]);
  } catch {
    return query(sql(''), [db]);
  }
}

async function addIndexes(query: Query, db: string, tables: Record<string, TableModel>): Promise<void> {
  const rows = await indexRows(query, db);
  const groups = new Map<string, { t: string; i: string; unique: boolean; cols: string[] }>();
  for (const r of rows) {
    const k = `${r.t}\u0000${r.i}`;
    const g = groups.get(k) ?? { t: String(r.t), i: String(r.i), unique: Number(r.nu) === 0, cols: [] };
    g.cols.push(
      r.c === null && r.x !== null && r.x !== undefined
        ? normalizeSql(String(r.x), { qualifier: db, backslashEscapes: true })
        : String(r.c),
    );
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
  const rows = await query(
    `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n, COLUMN_NAME AS c, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
    FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL
    ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
    [db],
  );
  const actions = new Map(
    (
      await query(
        `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n, DELETE_RULE AS d, UPDATE_RULE AS u
    FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?`,
        [db],
      )
    ).map((r) => [`${r.t}\u0000${r.n}`, r]),
  );
  const groups = new Map<
    string,
    {
      t: string;
      fk: { columns: string[]; refTable: string; refColumns: string[]; onDelete?: string; onUpdate?: string };
    }
  >();
  for (const r of rows) {
    const k = `${r.t}\u0000${r.n}`;
    const a = actions.get(k);
    const rules = a ? { onDelete: String(a.d).toUpperCase(), onUpdate: String(a.u).toUpperCase() } : {};
    const g = groups.get(k) ?? {
      t: String(r.t),
      fk: { columns: [], refTable: String(r.rt), refColumns: [], ...rules },
    };
    g.fk.columns.push(String(r.c));
    g.fk.refColumns.push(String(r.rc));
    groups.set(k, g);
  }
  for (const g of groups.values()) tables[g.t]?.foreignKeys.push(g.fk);
}

/** Some servers hide a definition from a user without the privilege (SHOW VIEW, SHOW_ROUTINE): said so, never taken for an empty one. */
const body = (v: unknown, db: string) =>
  v === null || v === undefined
    ? '(definition not readable by this user)'
    : normalizeSql(String(v), { qualifier: db, backslashEscapes: true });

async function objectsOf(query: Query, db: string): Promise<ObjectModel[]> {
  const objects: ObjectModel[] = [];
  // The definer (user@host) and sql_mode differ from site to site for the same trigger: left out.
  for (const r of await query(
    `SELECT TRIGGER_NAME AS n, EVENT_OBJECT_TABLE AS t, ACTION_TIMING AS timing, EVENT_MANIPULATION AS ev, ACTION_STATEMENT AS s
    FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`,
    [db],
  )) {
    const summary = `${String(r.timing).toUpperCase()} ${String(r.ev).toUpperCase()}`;
    objects.push({
      type: 'trigger',
      name: String(r.n),
      table: String(r.t),
      summary,
      definition: `${summary.toLowerCase()} on ${String(r.t).toLowerCase()} for each row ${body(r.s, db)}`,
    });
  }
  const params = new Map<string, string>();
  try {
    for (const r of await query(
      `SELECT SPECIFIC_NAME AS n, ROUTINE_TYPE AS ty, GROUP_CONCAT(CONCAT_WS(' ', PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER) ORDER BY ORDINAL_POSITION SEPARATOR ', ') AS p
      FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = ? AND ORDINAL_POSITION > 0 GROUP BY SPECIFIC_NAME, ROUTINE_TYPE`,
      [db],
    ))
      params.set(`${r.ty}\u0000${r.n}`, String(r.p ?? ''));
  } catch {
    // A server without information_schema.PARAMETERS: the body and return type still tell routines apart.
  }
  for (const r of await query(
    `SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS ty, DTD_IDENTIFIER AS ret, SECURITY_TYPE AS sec, ROUTINE_DEFINITION AS s
    FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?`,
    [db],
  )) {
    const type = String(r.ty).toLowerCase();
    const p = params.get(`${r.ty}\u0000${r.n}`) ?? '';
    objects.push({
      type,
      name: String(r.n),
      table: null,
      summary: '',
      definition: `${type} ${String(r.n).toLowerCase()} ( ${normalizeSql(p)} )${r.ret ? ` returns ${normalizeSql(String(r.ret))}` : ''} sql security ${String(r.sec).toLowerCase()} ${body(r.s, db)}`,
    });
  }
  for (const r of await query(
    `SELECT EVENT_NAME AS n, EVENT_TYPE AS ty, EXECUTE_AT AS at, INTERVAL_VALUE AS iv, INTERVAL_FIELD AS f, EVENT_DEFINITION AS s
    FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [db],
  )) {
    const schedule =
      r.ty === 'RECURRING'
        ? `every ${r.iv} ${String(r.f).toLowerCase()}`
        : `at ${r.at instanceof Date ? r.at.toISOString() : String(r.at)}`;
    objects.push({
      type: 'event',
      name: String(r.n),
      table: null,
      summary: schedule.toUpperCase(),
      definition: `on schedule ${schedule} do ${body(r.s, db)}`,
    });
  }
  for (const r of await query(
    'SELECT TABLE_NAME AS n, VIEW_DEFINITION AS s, CHECK_OPTION AS c, SECURITY_TYPE AS sec FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?',
    [db],
  )) {
    objects.push({
      type: 'view',
      name: String(r.n),
      table: null,
      summary: '',
      definition: `sql security ${String(r.sec).toLowerCase()} ${body(r.s, db)}${r.c && r.c !== 'NONE' ? ` with ${String(r.c).toLowerCase()} check option` : ''}`,
    });
  }
  return sortObjects(objects);
}

export async function introspectMysql(query: Query, database: string): Promise<SchemaModel> {
  const tables: Record<string, TableModel> = {};
  const trows = await query(
    "SELECT TABLE_NAME AS t, ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
    [database],
  );
  for (const r of trows) tables[String(r.t)] = emptyTable(String(r.t), String(r.e), String(r.c));
  const cols = await query(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ty, IS_NULLABLE AS n, COLUMN_DEFAULT AS d, EXTRA AS x, COLLATION_NAME AS co
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database],
  );
  for (const r of cols) {
    const type = String(r.ty).toLowerCase().replace(/\s+/g, '');
    const t = tables[String(r.t)];
    if (!t) continue;
    t.columns[String(r.c)] = {
      name: String(r.c),
      type,
      nullable: r.n === 'YES',
      default: normalizeMysqlDefault(r.d, r.x, type),
    };
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
  return { dialect: 'mysql', tables, enums: {}, objects: await objectsOf(query, database) };
}
