// SQLite through sql.js (WebAssembly: no server, no native build). The file
// is read into memory under the lock, each version runs in a transaction, and
// after every commit the whole image is written back atomically.
import { existsSync, statSync, type Stats } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { ConfigError, ConflictError } from '../errors.js';
import type { SqliteTarget } from '../url.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { acquireFileLock } from '../util/file-lock.js';
import { FileTooLargeError, MAX_WHOLE_FILE, readWholeFile } from '../util/read-whole.js';
import type { ApplyOutcome, Driver, DriverConfig, PendingVersion, VersionRow } from './driver.js';
import { statementFailed } from './failure.js';
import { columnsQuery, createVersionTableSql, ensureColumnsSql, insertSql, rowFrom, rowValues, selectSql } from './version-table.js';

let sqlJs: Promise<SqlJsStatic> | null = null;

/** Below this size a run is short, and optimizing sql.js costs more than it saves. */
const BASELINE_COMPILER_BELOW = 64 * 1024 * 1024;

/**
 * sql.js is WebAssembly. V8 starts it on its baseline compiler and recompiles
 * hot functions (SQLite's bytecode interpreter above all) with its optimizing
 * compiler on background threads, and the process cannot exit before those
 * jobs finish: about 70 ms at the end of a fresh sync, 80 ms of a `version`.
 * That only pays off on a long upgrade, so a database under 64 MiB (or none
 * yet) runs on the baseline compiler alone. Decided once, before sql.js is
 * first compiled; a big database later in the same process keeps the choice.
 */
function startSqlJs(path: string): Promise<SqlJsStatic> {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // No file yet: a new database, as small as they come.
  }
  if (size < BASELINE_COMPILER_BELOW) setFlagsFromString('--liftoff-only');
  return initSqlJs();
}

interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

const identity = (s: Stats): FileIdentity => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
const sameFile = (a: FileIdentity | null, b: FileIdentity | null) =>
  a === b || (!!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino);

export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  private readonly target: SqliteTarget;
  private db: Database | null = null;
  /** What the file looked like when read or last written: a different file on disk means another writer. */
  private seen: FileIdentity | null = null;
  private releaseLock: (() => void) | null = null;

  constructor(private readonly config: DriverConfig) {
    this.target = config.target as SqliteTarget;
  }

  async open(): Promise<void> {
    const dir = this.target.path.replace(/\/[^/]*$/, '') || '/';
    if (!existsSync(dir)) {
      throw new ConfigError(`The folder of the SQLite database ${this.target.path} does not exist.`);
    }
    sqlJs ??= startSqlJs(this.target.path);
  }

  exists(): boolean {
    return existsSync(this.target.path);
  }

  async lock(): Promise<void> {
    this.releaseLock = await acquireFileLock(`${this.target.path}.lock`, this.config.lockWaitMs, `The SQLite database ${this.target.path}`);
    // Whatever was read before the lock may be stale: read again under it.
    this.db?.close();
    this.db = null;
  }

  async unlock(): Promise<void> {
    this.releaseLock?.();
    this.releaseLock = null;
  }

  private async load(): Promise<Database> {
    if (this.db) return this.db;
    const SQL = await sqlJs!;
    if (this.exists()) {
      const bytes = readSqliteFile(this.target.path);
      this.seen = identity(statSync(this.target.path));
      if (bytes.length > 0 && bytes.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
        throw new ConfigError(`${this.target.path} is not a SQLite database file.`);
      }
      this.db = new SQL.Database(bytes);
    } else {
      this.seen = null;
      this.db = new SQL.Database();
    }
    return this.db;
  }

  query = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const db = await this.load();
    const stmt = db.prepare(sql, params as never);
    const rows: Record<string, unknown>[] = [];
    try {
      while (stmt.step()) rows.push(stmt.getAsObject());
    } finally {
      stmt.free();
    }
    return rows;
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
    return rows.map((r) => String(r.name));
  }

  async ensureVersionTable(): Promise<void> {
    const tables = await this.listTables();
    const table = this.config.versionTable;
    // A table made by an earlier release gets the columns added since.
    const alters = tables.includes(table) ? ensureColumnsSql(table, 'sqlite', await this.columns()) : [createVersionTableSql(table, 'sqlite')];
    if (alters.length === 0) return;
    const db = await this.load();
    for (const a of alters) db.exec(a);
    this.persist();
  }

  private async columns(): Promise<string[]> {
    return (await this.query(columnsQuery(this.config.versionTable, 'sqlite'))).map((r) => String(r.name));
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!(await this.listTables()).includes(this.config.versionTable)) return [];
    return (await this.query(selectSql(this.config.versionTable, await this.columns()))).map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[]): Promise<void> {
    const db = await this.load();
    db.exec('BEGIN');
    try {
      for (const s of statements) db.run(s.sql, s.params as never);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    this.persist();
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    const db = await this.load();
    // The lock file is held for the whole run; checked anyway, as on PostgreSQL.
    if ((await this.query(`SELECT version FROM ${this.config.versionTable} LIMIT 1`)).length > 0) return false;
    db.exec('BEGIN');
    try {
      for (const r of rows) db.run(insertSql(this.config.versionTable, () => '?'), rowValues(r));
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    this.persist();
    return true;
  }

  async applyVersion(p: PendingVersion): Promise<ApplyOutcome> {
    const db = await this.load();
    const found = await this.query(`SELECT 1 AS x FROM ${this.config.versionTable} WHERE version = ?`, [p.version]);
    if (found.length > 0) return 'already-applied';
    const started = performance.now();
    db.exec('BEGIN');
    for (const s of p.statements) {
      try {
        db.exec(s.text);
      } catch (err) {
        db.exec('ROLLBACK');
        throw statementFailed(p, s, err, `Rolled back: the database is still at the version before ${p.version}.`);
      }
    }
    const row = { ...p.row, executionMs: Math.round(performance.now() - started) };
    try {
      for (const a of p.after) db.exec(a);
      db.run(insertSql(this.config.versionTable, () => '?'), rowValues(row));
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    db.exec('COMMIT');
    this.persist();
    return 'applied';
  }

  /** Writes the in-memory image back, refusing if someone else changed the file since we read it. */
  private persist(): void {
    const now = this.exists() ? identity(statSync(this.target.path)) : null;
    if (!sameFile(now, this.seen)) {
      throw new ConflictError(
        `${this.target.path} was changed on disk by another program after glance-db read it; glance-db did not overwrite it.`,
        'Stop whatever else writes the database (glance-api, glance-manage) and run glance-db again.',
      );
    }
    writeFileAtomic(this.target.path, this.exportImage());
    this.seen = identity(statSync(this.target.path));
  }

  /** The whole database as bytes; a clear error when it has outgrown what one buffer holds. */
  private exportImage(): Uint8Array {
    try {
      return this.db!.export();
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const [count, size] = ['page_count', 'page_size'].map((p) => Number(this.db!.exec(`PRAGMA ${p}`)[0]?.values[0]?.[0] ?? 0));
      throw new ConfigError(
        `${this.target.path} has grown to ${((count * size) / GiB).toFixed(2)} GiB during the upgrade, more than the embedded SQLite engine (sql.js) can hand back in one buffer (${err.message}). The file on disk was left as it was after the last version written; \`glance-db version\` shows which.`,
        { cause: err, hint: TOO_LARGE_HINT },
      );
    }
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
    await this.unlock();
  }
}

const GiB = 1024 ** 3;
const TOO_LARGE_HINT = 'Upgrade a database this large on PostgreSQL or MySQL, or apply the reviewed SQL files (glance-db plan) with the sqlite3 command-line tool.';

/** The whole file, or a clear error when it cannot be held in memory (sql.js works on an in-memory image). */
function readSqliteFile(path: string): Buffer {
  try {
    return readWholeFile(path);
  } catch (err) {
    if (!(err instanceof FileTooLargeError)) throw err;
    throw new ConfigError(
      `${path} is ${(err.size / GiB).toFixed(2)} GiB: the embedded SQLite engine (sql.js) holds the whole file in memory, and one buffer holds at most ${(MAX_WHOLE_FILE / GiB).toFixed(0)} GiB. Nothing was changed.`,
      { hint: TOO_LARGE_HINT },
    );
  }
}
