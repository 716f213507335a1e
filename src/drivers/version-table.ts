// The version table: one row per version, the same columns in every dialect.
// Types are kept portable (text timestamps in ISO 8601 UTC) so that a dump of
// the table reads the same everywhere.
import type { Dialect } from '../url.js';
import type { VersionRow } from './driver.js';

export const VERSION_COLUMNS = [
  'version', 'name', 'dialect', 'checksum', 'kind', 'status', 'statements_applied', 'statements_total',
  'statement_hashes', 'error', 'applied_at', 'execution_ms', 'tool_version',
] as const;

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
  tool_version VARCHAR(32) NOT NULL
)${tail}`;
}

/** Positional values in VERSION_COLUMNS order. */
export function rowValues(r: VersionRow): (string | number | null)[] {
  return [
    r.version, r.name, r.dialect, r.checksum, r.kind, r.status, r.statementsApplied, r.statementsTotal,
    r.statementHashes ? JSON.stringify(r.statementHashes) : null, r.error, r.appliedAt, r.executionMs, r.toolVersion,
  ];
}

export function insertSql(table: string, placeholder: (i: number) => string): string {
  const marks = VERSION_COLUMNS.map((_, i) => placeholder(i + 1)).join(', ');
  return `INSERT INTO ${table} (${VERSION_COLUMNS.join(', ')}) VALUES (${marks})`;
}

export function selectSql(table: string): string {
  return `SELECT ${VERSION_COLUMNS.join(', ')} FROM ${table} ORDER BY version`;
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
  };
}
