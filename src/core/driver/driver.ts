// The contract between the engine and one dialect. The engine decides what to
// run and owns the transaction of a version (src/core/apply.ts, after
// dbmate's doTransaction); a driver only knows how to talk to its database,
// through the small primitives below (golang-migrate's driver contract is the
// model). Drivers never read flags or the environment: they get a resolved
// DriverConfig.
//
// To add a dialect:
//   1. Write src/dialects/<name>/driver.ts: a class implementing Driver. Take the
//      migration lock in lock() (or, like PostgreSQL, at the start of every
//      transaction), keep the version table with version-table.ts, and give
//      versionTransaction() and the statement primitives; set transactionalDdl
//      to whether DDL commits with its transaction.
//   2. Wrap it in guard() (src/core/driver/guard.ts) if it talks to a server, so
//      that signals and lost connections end as their documented exit codes.
//   3. Describe the dialect in src/dialects/<name>/description.ts (URL schemes, splitter
//      rules, version-table DDL, backup and restore, plan script) and load
//      the driver lazily from its loadDriver (docs/contributing/adding-a-dialect.md).
//   4. Add its introspector (src/core/introspect) and its SQL files and expected
//      schemas (sql/<name>, schema/expected/<name>).
//   5. Add it to test/driver-contract.test.ts, which calls this contract
//      directly, and to the conformance suites (test/conformance-*.test.ts).
import type { Dialect } from './dialect-name.js';
import type { DatabaseTarget } from '../../platform/url.js';

export type RowKind = 'applied' | 'baseline' | 'adopted';
/** expanded / migrated: a rolling upgrade has run the version's expand (and migrate) phase, not yet the rest (engine/phases.ts). */
export type RowStatus = 'complete' | 'failed' | 'expanded' | 'migrated';

/** Runs one read-only query and returns plain row objects. Introspection needs nothing more from a driver. */
export type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** One row of the version table. */
export interface VersionRow {
  version: number;
  name: string;
  dialect: Dialect;
  checksum: string;
  kind: RowKind;
  status: RowStatus;
  /** Statements of the file applied so far (= total when complete). */
  statementsApplied: number;
  statementsTotal: number;
  /** Hashes of applied statements, for resumable MySQL versions; null elsewhere. */
  statementHashes: string[] | null;
  error: string | null;
  /** ISO 8601, UTC. */
  appliedAt: string;
  executionMs: number;
  toolVersion: string;
  /** JSON text: the other tool's schema variant recognised at take-over, or drift accepted with --accept-drift (engine/drift.ts). */
  note?: string | null;
  /** Values of the columns added after the first release (version-table.ts ADDED_COLUMNS, note included), by name; a column the table lacks is absent. */
  added?: Record<string, string | null>;
}

export interface DriverConfig {
  target: DatabaseTarget;
  versionTable: string;
  /** How long lock() waits for another glance-db run, in milliseconds. */
  lockWaitMs: number;
  connectTimeoutMs: number;
  /** Server limit on one statement; 0 means none (migrations on big tables take long). */
  statementTimeoutMs: number;
  /** Server limit on waiting for a table lock held by the application itself; 0 means none. */
  lockTimeoutMs: number;
  /**
   * Servers: how long a connection may stay silent (no answer, and a second
   * connection cannot confirm the statement still runs) before the run stops
   * with exit 18; also the server-side idle-in-transaction limit. Default 60 s.
   */
  ioTimeoutMs?: number;
  /** MySQL: a lock holder whose heartbeat is older than this is taken over. Default 60 s. */
  lockLeaseMs?: number;
}

/** The state of one version's row, as the engine reads it before running the version. */
export interface RecordedState {
  status: RowStatus;
  error: string | null;
}

/** Columns of the version table that the engine changes while a version runs (resumable dialects). */
export type RowUpdate = Partial<
  Record<
    | 'status'
    | 'error'
    | 'checksum'
    | 'statements_applied'
    | 'statements_total'
    | 'statement_hashes'
    | 'applied_at'
    | 'execution_ms'
    | 'tool_version',
    string | number | null
  >
>;

/**
 * What the engine can do inside the transaction of a version
 * (Driver.versionTransaction): run a statement, and read and write the
 * version's row. Nothing is committed until the transaction is.
 */
export interface VersionTx {
  /** Runs one statement as written (a migration file's, or the other tool's bookkeeping); no parameters. */
  execute(sql: string): Promise<void>;
  /** The version's row, or null when it has none. */
  recorded(version: number): Promise<RecordedState | null>;
  insertRow(row: VersionRow): Promise<void>;
  updateRow(version: number, set: RowUpdate): Promise<void>;
  /** Removes the version's row: a rolling upgrade's next phase replaces the row of the phase before. */
  deleteRow(version: number): Promise<void>;
}

/** What a transaction body can do: read rows, and change rows (returning how many changed). */
export interface Tx {
  query: Query;
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface Driver {
  readonly dialect: Dialect;
  /**
   * Whether DDL commits with its transaction (SQLite, PostgreSQL): then a
   * version, its bookkeeping and its row are one transaction. Where it does
   * not (MySQL), the engine records progress after every statement and
   * resumes a version that stopped part way (src/core/apply.ts).
   */
  readonly transactionalDdl: boolean;
  /**
   * Opens the connection (SQLite: reads the file). A SQLite file that does
   * not exist yet is reported by exists() returning false, not by an error.
   */
  open(): Promise<void>;
  exists(): boolean;
  /**
   * Takes the migration lock for this process, waiting up to lockWaitMs; a
   * lock left by a dead process is taken over. Throws LockedError. It is
   * released by close(). PostgreSQL's lock is per transaction instead: an
   * advisory lock taken at the start of every transaction the driver opens
   * (versionTransaction, transaction, recordRows, ...), so lock() does
   * nothing there and another run may commit between two transactions of
   * this one; the engine re-reads the history where that matters.
   */
  lock(): Promise<void>;
  /** Names of the user tables in the database (the version table included). */
  listTables(): Promise<string[]>;
  /** Creates the version table if it is missing, and adds the columns a table made by an older glance-db lacks. Called under the lock. */
  ensureVersionTable(): Promise<void>;
  /** Sets the note of one recorded version (under the lock). */
  setNote(version: number, note: string): Promise<void>;
  /** Every row of the version table ordered by version; [] when the table is missing. */
  readHistory(): Promise<VersionRow[]>;
  /**
   * Records rows without running anything (baseline, adopted), in one
   * transaction under the lock, but only into an empty version table: returns
   * false, recording nothing, when a concurrent run placed the database first.
   */
  recordRows(rows: VersionRow[]): Promise<boolean>;
  /**
   * The transaction a version's work runs in (src/core/apply.ts): commits
   * when fn returns, rolls back if it throws. PostgreSQL takes the migration
   * lock first; MySQL commits only if the lock is still this run's at commit
   * time (fencing); SQLite commits in memory, written back at close().
   */
  versionTransaction<T>(fn: (tx: VersionTx) => Promise<T>): Promise<T>;
  /**
   * Where DDL is not transactional: runs one statement on its own (it
   * commits by itself). The engine checks the lock just before, with an
   * empty versionTransaction().
   */
  executeAlone?(sql: string): Promise<void>;
  /**
   * Whether an error from a version's statement means the run must stop as
   * is (connection lost or silent, a signal, the lock lost), rather than that
   * the statement failed (reported with its file position). Synchronous.
   */
  stopsRun(err: unknown): boolean;
  /** The 1-based character position of the error inside the statement, if the server reports one (PostgreSQL). Synchronous. */
  errorPosition?(err: unknown): number | undefined;
  /** What a signal leaves behind, for the "Interrupted by ..." message (PostgreSQL: rolled back; MySQL: resumable). */
  readonly interruptedOutcome: string;
  /**
   * Where DDL is not transactional: whether the error of a DDL statement
   * that a killed run had started means its effect is already in place
   * (table exists, duplicate column...). Synchronous.
   */
  alreadyThere?(err: unknown): boolean;
  /**
   * Runs a data transaction again, bounded, when the server asks for it
   * (Galera certification failure, error 1213). Absent elsewhere.
   */
  retryCertification?<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Checks, before anything changes (before the lock), that the server is
   * in a state to be changed and can take the statements of the versions
   * that may run (read only if needed, after the server's own state);
   * throws PreflightError (exit 32) otherwise. Only MySQL/MariaDB has one.
   */
  preflight?(pendingStatements: () => Promise<string[]>): Promise<void>;
  /**
   * A replicated node whose writesets must stay small (Galera): sync then runs
   * phased versions through their phases, each data batch its own
   * transaction. Absent means no.
   */
  replicatesWritesets?(): Promise<boolean>;
  /**
   * Changes rows of the version table (repair, a hand-back record), the
   * statements in one transaction under the lock. Nothing else in the
   * database is touched. With `basis` (historyBasis of the rows the change was
   * planned from), the version table is read first inside that transaction,
   * and nothing is written (false) when it no longer reads so: on
   * PostgreSQL, whose lock is per transaction, another run may have
   * recorded versions since the plan read it.
   */
  editHistory(statements: { sql: string; params: unknown[] }[], basis?: string): Promise<boolean>;
  /** A read-only query, for introspection. */
  query: Query;
  /**
   * Runs fn in one data transaction (metadefs, purge; PostgreSQL: under the
   * migration lock, like a version; SQLite and MySQL: call lock() first) and
   * commits, or rolls back if fn throws. SQLite writes the file back after
   * the commit unless deferWriteBack is set; flush() then writes it.
   * Placeholders are the dialect's own ($1 on PostgreSQL, ? elsewhere).
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: { deferWriteBack?: boolean }): Promise<T>;
  /** SQLite: writes back commits made with deferWriteBack. Elsewhere nothing. */
  flush(): Promise<void>;
  /** Releases the lock and the connection; SQLite writes the file back first (and reports a write-back it refused). */
  close(): Promise<void>;
}
