// The contract between the engine and one dialect. The engine decides what to
// run; a driver only knows how to talk to its database. Drivers never read
// flags or the environment: they get a resolved DriverConfig.
import type { Query } from '../introspect/model.js';
import type { Statement } from '../sql/split.js';
import type { DatabaseTarget, Dialect } from '../url.js';

export type RowKind = 'applied' | 'baseline' | 'adopted';
/** expanded / migrated: a rolling upgrade has run the version's expand (and migrate) phase, not yet the rest (engine/phases.ts). */
export type RowStatus = 'complete' | 'failed' | 'expanded' | 'migrated';

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
  /** JSON text: the Glance variant recognised at take-over, or drift accepted with --accept-drift (engine/drift.ts). */
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
  /** Server limit on waiting for a table lock held by Glance itself; 0 means none. */
  lockTimeoutMs: number;
  /** sync may create the database (SQLite: the file); version and upgrade may not. */
  create: boolean;
  /**
   * Servers: how long a connection may stay silent (no answer, and a second
   * connection cannot confirm the statement still runs) before the run stops
   * with exit 18; also the server-side idle-in-transaction limit. Default 60 s.
   */
  ioTimeoutMs?: number;
  /** MySQL: a lock holder whose heartbeat is older than this is taken over. Default 60 s. */
  lockLeaseMs?: number;
}

/** What applyVersion did: ran it, or found it already recorded by a concurrent run. */
export type ApplyOutcome = 'applied' | 'already-applied';

export interface PendingVersion {
  version: number;
  name: string;
  /** Path shown in messages, relative to the manifest. */
  file: string;
  statements: Statement[];
  /** The row to record; executionMs is filled in by the driver. */
  row: VersionRow;
  /**
   * Index of the first statement to run: 0, or (MySQL) where a failed or
   * interrupted run of this version stopped. The engine has checked that the
   * statements before it are unchanged.
   */
  resumeFrom: number;
  /** Bookkeeping run after the file, in the same transaction (Glance's alembic_version). Idempotent. */
  after: string[];
  /**
   * A rolling upgrade's next phase: the version's row has this status
   * (expanded, migrated), and is replaced by `row` with the statements,
   * instead of counting as already applied.
   */
  replaces?: RowStatus;
}

/** What a transaction body can do: read rows, and change rows (returning how many changed). */
export interface Tx {
  query: Query;
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface Driver {
  readonly dialect: Dialect;
  /**
   * Opens the connection (SQLite: reads the file). With config.create false a
   * database that does not exist is reported by exists() returning false,
   * not by an error.
   */
  open(): Promise<void>;
  exists(): boolean;
  /**
   * Takes the migration lock for this process, waiting up to lockWaitMs; a
   * lock left by a dead process is taken over. Throws LockedError.
   */
  lock(): Promise<void>;
  unlock(): Promise<void>;
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
   * Runs the statements and records the row, in one transaction where the
   * database allows it. Returns 'already-applied' if the row appeared in the
   * meantime (a concurrent run). Throws MigrationFailedError.
   */
  applyVersion(p: PendingVersion): Promise<ApplyOutcome>;
  /**
   * Checks, before anything changes (before the lock), that the server is
   * in a state to be changed and can take the statements of the versions
   * that may run (read only if needed, after the server's own state);
   * throws PreflightError (exit 32) otherwise. Only MySQL/MariaDB has one.
   */
  preflight?(pendingStatements: () => Promise<string[]>): Promise<void>;
  /**
   * Changes rows of the version table (repair), the statements in one
   * transaction under the lock. Nothing else in the database is touched.
   */
  editHistory(statements: { sql: string; params: unknown[] }[]): Promise<void>;
  /** A read-only query, for introspection. */
  query: Query;
  /**
   * Runs fn in one transaction (PostgreSQL: under the migration lock, like a
   * version; SQLite and MySQL: call lock() first) and commits, or rolls back
   * if fn throws. SQLite writes the file back after the commit unless
   * deferWriteBack is set; flush() then writes it. Placeholders are the
   * dialect's own ($1 on PostgreSQL, ? elsewhere).
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: { deferWriteBack?: boolean }): Promise<T>;
  /** SQLite: writes back commits made with deferWriteBack. Elsewhere nothing. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
