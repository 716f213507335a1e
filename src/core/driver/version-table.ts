// The version table: one row per version, the same columns in every dialect.
// Types are kept portable (text timestamps in ISO 8601 UTC) so that a dump of
// the table reads the same everywhere. What differs per dialect (the long
// text type, table options, how to list columns) is its description's
// versionTable (src/dialects/<name>/description.ts).
import { describeDialect, type Dialect, type DialectDescription } from './dialect.js';
import type { RowKind, VersionRow } from './driver.js';

export const VERSION_COLUMNS = [
  'version',
  'name',
  'dialect',
  'checksum',
  'kind',
  'status',
  'statements_applied',
  'statements_total',
  'statement_hashes',
  'error',
  'applied_at',
  'execution_ms',
  'tool_version',
] as const;

/**
 * Columns added after the first release, in the order they were added. New
 * tables get them from createVersionTableSql; a table made by an earlier
 * release gets each missing one by ALTER TABLE ... ADD COLUMN (nullable, so
 * old rows read as null) when sync or repair writes to it
 * (addMissingColumnsSql), and reads take whatever columns the table has
 * (selectSql), so read-only commands work on old tables unchanged. `ddl` is
 * the column's type clause in a dialect. Values travel in VersionRow.added, keyed by
 * column name; a column with `field` is also VersionRow[field] (the value
 * written is taken from there).
 */
export interface AddedColumn {
  name: string;
  ddl(d: DialectDescription): string;
  field?: 'note';
}

export const ADDED_COLUMNS: AddedColumn[] = [
  // JSON text: the other tool's schema variant recognised at take-over, drift accepted with sync --accept-drift.
  { name: 'note', ddl: (d) => d.versionTable.longText, field: 'note' },
  // user@host of whoever ran the version (null: recorded by a script or an earlier release).
  { name: 'run_by', ddl: () => 'VARCHAR(255)' },
  // JSON text, rolling upgrades (engine/phases.ts): the phases done, each with the checksum of the file that ran in it.
  { name: 'phases', ddl: (d) => d.versionTable.longText },
];

/** Every column glance-db writes, in insert order: the first release's, then ADDED_COLUMNS. */
export const WRITTEN_COLUMNS = [...VERSION_COLUMNS, ...ADDED_COLUMNS.map((c) => c.name)];

/** The value of an added column in a row (null when unset or when the table lacks the column). */
export function addedValue(r: VersionRow, c: AddedColumn): string | null {
  return (c.field ? r[c.field] : r.added?.[c.name]) ?? null;
}

/** ALTER TABLE statements for the added columns that `present` (column names, any case) lacks. */
export function addMissingColumnsSql(table: string, dialect: Dialect, present: string[]): string[] {
  const have = new Set(present.map((c) => c.toLowerCase()));
  return ADDED_COLUMNS.filter((c) => !have.has(c.name)).map(
    (c) => `ALTER TABLE ${table} ADD COLUMN ${c.name} ${c.ddl(describeDialect(dialect))}`,
  );
}

/** Column names of the version table (as `name`), per dialect (for addMissingColumnsSql). */
export function columnNamesSql(table: string, dialect: Dialect): string {
  return describeDialect(dialect).versionTable.columnNamesSql(table);
}

export function createVersionTableSql(table: string, dialect: Dialect): string {
  const d = describeDialect(dialect);
  const text = d.versionTable.longText;
  const tail = d.versionTable.tableOptions;
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
  tool_version VARCHAR(32) NOT NULL${ADDED_COLUMNS.map((c) => `,\n  ${c.name} ${c.ddl(d)}`).join('')}
)${tail}`;
}

/** Positional values in WRITTEN_COLUMNS order. */
export function rowValues(r: VersionRow): (string | number | null)[] {
  return [
    r.version,
    r.name,
    r.dialect,
    r.checksum,
    r.kind,
    r.status,
    r.statementsApplied,
    r.statementsTotal,
    r.statementHashes ? JSON.stringify(r.statementHashes) : null,
    r.error,
    r.appliedAt,
    r.executionMs,
    r.toolVersion,
    ...ADDED_COLUMNS.map((c) => addedValue(r, c)),
  ];
}

/** What a new, complete row of the version table says; the rest is the same for every such row glance-db records. */
export interface NewRow {
  version: number;
  name: string;
  dialect: Dialect;
  checksum: string;
  kind: RowKind;
  statementsTotal: number;
  /** Statements run: 0 (the default) for a row recorded without running anything. */
  statementsApplied?: number;
  /** Now unless given (one time for a batch, or a script's placeholder for the server's clock). */
  appliedAt?: string;
  /** Set on the row only when given. */
  note?: string | null;
  /** Added columns besides run_by (the phases an earlier row recorded). */
  added?: Record<string, string | null>;
}

/**
 * The one builder of a complete version-table row: recorded whole (applied), as already there (baseline), or from
 * the other tool's bookkeeping (adopted). `by` is who records it: glance-db's version, and user@host as run_by (left out by
 * a plan script, which does not know who runs it).
 */
export function newVersionRow(by: { toolVersion: string; runBy?: string }, r: NewRow): VersionRow {
  return {
    version: r.version,
    name: r.name,
    dialect: r.dialect,
    checksum: r.checksum,
    kind: r.kind,
    status: 'complete',
    statementsApplied: r.statementsApplied ?? 0,
    statementsTotal: r.statementsTotal,
    statementHashes: null,
    error: null,
    appliedAt: r.appliedAt ?? new Date().toISOString(),
    executionMs: 0,
    toolVersion: by.toolVersion,
    ...('note' in r ? { note: r.note } : {}),
    ...(by.runBy === undefined ? {} : { added: { run_by: by.runBy, ...r.added } }),
  };
}

/** The statements that put each row in place of the version's row, if any (editHistory's `?` placeholders). */
export function replaceRowsStatements(table: string, rows: VersionRow[]): { sql: string; params: unknown[] }[] {
  return rows.flatMap((r) => [
    { sql: `DELETE FROM ${table} WHERE version = ?`, params: [r.version] },
    { sql: insertSql(table, () => '?'), params: rowValues(r) },
  ]);
}

export function insertSql(table: string, placeholder: (i: number) => string): string {
  const marks = WRITTEN_COLUMNS.map((_, i) => placeholder(i + 1)).join(', ');
  return `INSERT INTO ${table} (${WRITTEN_COLUMNS.join(', ')}) VALUES (${marks})`;
}

/** Whether a row read with selectSql (SELECT *) has every added column: then the table needs no ALTER. */
export function hasAddedColumns(r: Record<string, unknown>): boolean {
  return ADDED_COLUMNS.every((c) => c.name in r);
}

/** The version table's versions and states, as text: what editHistory's basis compares. */
export function historyBasis(rows: ReadonlyArray<{ version?: unknown; status?: unknown }>): string {
  return rows.map((r) => `${Number(r.version)}:${String(r.status)}`).join(',');
}

export function basisSql(table: string): string {
  return `SELECT version, status FROM ${table} ORDER BY version`;
}

/** SELECT *: a table made by an older glance-db, without the added columns, still reads (as null). */
export function selectSql(table: string): string {
  return `SELECT * FROM ${table} ORDER BY version`;
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
    note: r.note == null ? null : String(r.note),
    added: Object.fromEntries(
      ADDED_COLUMNS.filter((c) => c.name in r).map((c) => [c.name, r[c.name] == null ? null : String(r[c.name])]),
    ),
  };
}
