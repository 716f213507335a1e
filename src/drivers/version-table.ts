// The version table: one row per version, the same columns in every dialect.
// Types are kept portable (text timestamps in ISO 8601 UTC) so that a dump of
// the table reads the same everywhere.
import type { Dialect } from '../url.js';
import type { VersionRow } from './driver.js';

export const VERSION_COLUMNS = [
  'version', 'name', 'dialect', 'checksum', 'kind', 'status', 'statements_applied', 'statements_total',
  'statement_hashes', 'error', 'applied_at', 'execution_ms', 'tool_version',
] as const;

/**
 * Columns added after the first release, in the order they were added. New
 * tables get them from createVersionTableSql; a table made by an earlier
 * release gets each missing one by ALTER TABLE ADD COLUMN when sync opens it
 * (ensureColumnsSql), and reads select only those present, so read-only
 * commands work on old tables unchanged. `ddl` is the column's type clause.
 * Values travel in VersionRow.added, keyed by column name.
 */
export const ADDED_COLUMNS: { name: string; ddl: Record<Dialect, string> }[] = [
  // user@host of whoever ran the version (null: recorded by a script or an earlier release).
  { name: 'run_by', ddl: { sqlite: 'VARCHAR(255)', postgresql: 'VARCHAR(255)', mysql: 'VARCHAR(255)' } },
];

/** Lists the version table's column names (as `name`). */
export function columnsQuery(table: string, dialect: Dialect): string {
  if (dialect === 'sqlite') return `SELECT name FROM pragma_table_info('${table}')`;
  if (dialect === 'postgresql') return `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${table}'`;
  return `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`;
}

/** ALTER TABLE statements adding the columns of ADDED_COLUMNS that `existing` lacks. */
export function ensureColumnsSql(table: string, dialect: Dialect, existing: string[]): string[] {
  const have = new Set(existing.map((c) => c.toLowerCase()));
  return ADDED_COLUMNS.filter((c) => !have.has(c.name)).map((c) => `ALTER TABLE ${table} ADD COLUMN ${c.name} ${c.ddl[dialect]}`);
}

export function createVersionTableSql(table: string, dialect: Dialect): string {
  const text = dialect === 'mysql' ? 'LONGTEXT' : 'TEXT';
  const tail = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
  return `CREATE TABLE IF NOT EXISTS ${table} (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  dialect VARCHAR(16) NOT NULL,
  checksum VARCHAR(100) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  statements_applied INTEGER NOT NULL,
  statements_total INTEGER NOT NULL,
  statement_hashes ${text},
  error ${text},
  applied_at VARCHAR(32) NOT NULL,
  execution_ms INTEGER NOT NULL,
  tool_version VARCHAR(32) NOT NULL${ADDED_COLUMNS.map((c) => `,\n  ${c.name} ${c.ddl[dialect]}`).join('')}
)${tail}`;
}

/** Every column an insert writes: the first release's, then ADDED_COLUMNS. */
export const ALL_COLUMNS: string[] = [...VERSION_COLUMNS, ...ADDED_COLUMNS.map((c) => c.name)];

/** Positional values in ALL_COLUMNS order. */
export function rowValues(r: VersionRow): (string | number | null)[] {
  return [
    r.version, r.name, r.dialect, r.checksum, r.kind, r.status, r.statementsApplied, r.statementsTotal,
    r.statementHashes ? JSON.stringify(r.statementHashes) : null, r.error, r.appliedAt, r.executionMs, r.toolVersion,
    ...ADDED_COLUMNS.map((c) => r.added?.[c.name] ?? null),
  ];
}

export function insertSql(table: string, placeholder: (i: number) => string): string {
  const marks = ALL_COLUMNS.map((_, i) => placeholder(i + 1)).join(', ');
  return `INSERT INTO ${table} (${ALL_COLUMNS.join(', ')}) VALUES (${marks})`;
}

/** Selects the first release's columns and those of ADDED_COLUMNS in `existing` (all when not given). */
export function selectSql(table: string, existing?: string[]): string {
  const have = existing && new Set(existing.map((c) => c.toLowerCase()));
  const added = ADDED_COLUMNS.filter((c) => !have || have.has(c.name)).map((c) => c.name);
  return `SELECT ${[...VERSION_COLUMNS, ...added].join(', ')} FROM ${table} ORDER BY version`;
}

export function rowFrom(r: Record<string, unknown>): VersionRow {
  return {
    version: Number(r.version),
    name: String(r.name),
    dialect: String(r.dialect) as Dialect,
    checksum: String(r.checksum),
    kind: String(r.kind) as VersionRow['kind'],
    status: String(r.status) as VersionRow['status'],
    statementsApplied: Number(r.statements_applied),
    statementsTotal: Number(r.statements_total),
    statementHashes: r.statement_hashes ? (JSON.parse(String(r.statement_hashes)) as string[]) : null,
    error: r.error == null ? null : String(r.error),
    appliedAt: String(r.applied_at),
    executionMs: Number(r.execution_ms),
    toolVersion: String(r.tool_version),
    added: Object.fromEntries(ADDED_COLUMNS.filter((c) => c.name in r).map((c) => [c.name, r[c.name] == null ? null : String(r[c.name])])),
  };
}
