// SQLite through sql.js (WebAssembly: no server, no native build). The file
// is read into memory under the lock, each version runs in a transaction in
// memory, and the whole image is written back once, atomically, when the run
// ends: the file moves from the version it had to the version the run
// reached. A failed version is rolled back in memory and the versions
// committed before it are written back before the error is reported; a run
// killed before its write-back leaves the file exactly as it was.
//
// The file on disk (its safety checks, SQLite's locks, the write-back):
// src/dialects/sqlite/file.ts; sql.js and the in-memory image: image.ts.
import type { Database } from 'sql.js';
import type { GlanceDbFile } from '#sql.js';
import { ConfigError } from '../../platform/errors.js';
import type { SqliteTarget } from '../../platform/url.js';
import type { DialectDescription } from '../../core/driver/dialect.js';
import type {
  Driver,
  DriverConfig,
  RecordedState,
  RowUpdate,
  Tx,
  VersionRow,
  VersionTx,
} from '../../core/driver/driver.js';
import {
  addMissingColumnsSql,
  columnNamesSql,
  createVersionTableSql,
  insertSql,
  rowFrom,
  rowValues,
  selectSql,
  basisSql,
  historyBasis,
} from '../../core/driver/version-table.js';
import { CORRUPT, damaged } from './file-checks.js';
import { SqliteFile } from './file.js';
import { exportImage, imageOf, openImage, outgrown, sqlJsFor } from './image.js';

export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  /** From the dialect's description: the engine runs a version in one transaction, or resumably (src/core/apply.ts). */
  readonly transactionalDdl: boolean;
  /** No signal reaches a version half way: the handler runs between versions (SqliteFile's onSignal). */
  readonly interruptedOutcome = 'The version in progress was rolled back.';
  /** The file on disk: read, locked and written back through it. */
  private readonly file: SqliteFile;
  private db: Database | null = null;
  /** The image holds committed changes not yet on disk: close() writes them back. */
  private dirty = false;
  /** SQLite reported the image damaged: nothing of it is written back. */
  private damagedImage = false;
  /** The database file as sql.js holds it in memory: what a write-back writes. */
  private image: GlanceDbFile | null = null;

  /** description: the dialect's own (./description.ts, which loads this driver and hands itself over). */
  constructor(
    private readonly config: DriverConfig,
    description: Pick<DialectDescription, 'transactionalDdl'>,
  ) {
    this.transactionalDdl = description.transactionalDdl;
    this.file = new SqliteFile((config.target as SqliteTarget).path, config.lockWaitMs);
  }

  private get name(): string {
    return this.file.name;
  }

  async open(): Promise<void> {
    this.file.open();
    void sqlJsFor(this.file.path);
  }

  exists(): boolean {
    return this.file.exists();
  }

  async lock(): Promise<void> {
    // Whatever was read before the lock may be stale: read again under it.
    this.db?.close();
    this.db = null;
    this.image = null;
    await this.file.lock();
  }

  private async load(): Promise<Database> {
    if (this.db) return this.db;
    const SQL = await sqlJsFor(this.file.path);
    if (this.exists()) {
      const opened = openImage(SQL, await this.file.read(), this.name, this.file.path);
      this.db = opened.db;
      this.image = opened.image;
    } else {
      this.file.forget();
      this.db = new SQL.Database();
      this.image = imageOf(SQL, this.db);
    }
    return this.db;
  }

  query = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const db = await this.load();
    const rows: Record<string, unknown>[] = [];
    try {
      const stmt = db.prepare(sql, params as never);
      try {
        while (stmt.step()) rows.push(stmt.getAsObject());
      } finally {
        stmt.free();
      }
    } catch (err) {
      if (CORRUPT.test((err as Error).message)) {
        this.damagedImage = true;
        throw damaged(this.name, this.file.path, `SQLite says "${(err as Error).message}"`);
      }
      throw err;
    }
    return rows;
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    return rows.map((r) => String(r.name));
  }

  async ensureVersionTable(): Promise<void> {
    const table = this.config.versionTable;
    if (!(await this.listTables()).includes(table)) {
      (await this.load()).exec(createVersionTableSql(table, 'sqlite'));
      this.dirty = true;
    }
    const missing = addMissingColumnsSql(
      table,
      'sqlite',
      (await this.query(columnNamesSql(table, 'sqlite'))).map((r) => String(r.name)),
    );
    if (missing.length === 0) return;
    for (const sql of missing) (await this.load()).exec(sql);
    this.dirty = true;
  }

  async setNote(version: number, note: string): Promise<void> {
    (await this.load()).run(`UPDATE ${this.config.versionTable} SET note = ? WHERE version = ?`, [note, version]);
    this.dirty = true;
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!(await this.listTables()).includes(this.config.versionTable)) return [];
    return (await this.query(selectSql(this.config.versionTable))).map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[], basis?: string): Promise<boolean> {
    const db = await this.load();
    if (basis !== undefined && historyBasis(await this.query(basisSql(this.config.versionTable))) !== basis)
      return false;
    db.exec('BEGIN');
    try {
      for (const s of statements) db.run(s.sql, s.params as never);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    // Written back once, when the run ends (close()), like every other change.
    this.dirty = true;
    return true;
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    const db = await this.load();
    // The lock file is held for the whole run; checked anyway, as on PostgreSQL.
    if ((await this.query(`SELECT version FROM ${this.config.versionTable} LIMIT 1`)).length > 0) return false;
    db.exec('BEGIN');
    try {
      for (const r of rows)
        db.run(
          insertSql(this.config.versionTable, () => '?'),
          rowValues(r),
        );
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    this.dirty = true;
    return true;
  }

  /** A version's transaction, in memory: written back once, when the run ends (close()). */
  async versionTransaction<T>(fn: (tx: VersionTx) => Promise<T>): Promise<T> {
    // A pending SIGINT/SIGTERM ends the run here, between versions.
    await new Promise((r) => setImmediate(r));
    const db = await this.load();
    const table = this.config.versionTable;
    let wrote = false;
    const tx: VersionTx = {
      execute: async (sql) => {
        wrote = true;
        this.inMemory(() => db.exec(sql));
      },
      recorded: async (version) => {
        const rows = await this.query(`SELECT status, error FROM ${table} WHERE version = ?`, [version]);
        return rows.length
          ? ({
              status: String(rows[0].status),
              error: rows[0].error == null ? null : String(rows[0].error),
            } as RecordedState)
          : null;
      },
      insertRow: async (row) => {
        wrote = true;
        db.run(
          insertSql(table, () => '?'),
          rowValues(row),
        );
      },
      deleteRow: async (version) => {
        wrote = true;
        db.run(`DELETE FROM ${table} WHERE version = ?`, [version]);
      },
      updateRow: async (version, set: RowUpdate) => {
        wrote = true;
        db.run(
          `UPDATE ${table} SET ${Object.keys(set)
            .map((c) => `${c} = ?`)
            .join(', ')} WHERE version = ?`,
          [...Object.values(set), version] as never,
        );
      },
    };
    db.exec('BEGIN');
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      this.rollback(db);
      throw err;
    }
    this.inMemory(() => db.exec('COMMIT'));
    if (wrote) this.dirty = true;
    return result;
  }

  /** A statement's error is the statement's, unless the in-memory file could not grow (outgrown()). */
  stopsRun(err: unknown): boolean {
    return err instanceof ConfigError && this.damagedImage;
  }

  /**
   * Runs sql.js; when its in-memory file cannot grow any more (a RangeError
   * from the allocation, thrown through SQLite's own code), the image is not
   * trusted again: nothing of it is written back, and the run stops with a
   * clear error (exit 3), the file on disk as it was before the run.
   */
  private inMemory<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.damagedImage = true;
      throw outgrown(this.name, this.image?.length ?? 0, err);
    }
  }

  private rollback(db: Database): void {
    try {
      db.exec('ROLLBACK');
    } catch (err) {
      // After an allocation failure inside SQLite, its state is not trusted anyway (damagedImage).
      if (!this.damagedImage) throw err;
    }
  }

  /**
   * A data transaction (metadefs, purge) in memory; committed work is
   * written back at once, or with deferWriteBack at the next flush() (at the
   * latest when the driver closes).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, opts: { deferWriteBack?: boolean } = {}): Promise<T> {
    const db = await this.load();
    const tx: Tx = {
      query: this.query,
      run: async (sql, params = []) => {
        this.inMemory(() => db.run(sql, params as never));
        return db.getRowsModified();
      },
    };
    db.exec('BEGIN');
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      this.rollback(db);
      throw err;
    }
    this.inMemory(() => db.exec('COMMIT'));
    this.dirty = true;
    if (!opts.deferWriteBack) await this.flush();
    return result;
  }

  async flush(): Promise<void> {
    if (this.dirty) await this.persist();
  }

  /** The one write-back of the image (src/dialects/sqlite/file.ts says when it may replace the file). */
  private async persist(): Promise<void> {
    await this.file.writeBack(() => this.exportImage());
    this.dirty = false;
  }

  /** The image's bytes for the write-back (./image.ts's exportImage: the live buffer when it is whole). */
  private exportImage(): Uint8Array {
    return exportImage({ db: this.db!, image: this.image }, this.name);
  }

  /**
   * Ends the run: the one write-back of what was committed (also when a
   * version failed: the versions before it were committed), then the lock.
   */
  async close(): Promise<void> {
    try {
      if (this.db && this.dirty && !this.damagedImage) await this.persist();
    } finally {
      this.dirty = false;
      this.db?.close();
      this.db = null;
      this.image = null;
      this.file.unlock();
    }
  }
}
