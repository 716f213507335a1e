// MySQL and MariaDB through mysql2. DDL commits implicitly here, so instead of
// one transaction per version the engine records progress after every
// statement (count and hash; src/core/apply.ts) and a later run resumes
// where a failed one stopped. The migration lock is a row in a table, which
// Galera replicates (GET_LOCK is node-local there: Flyway issue 4271); every
// write of a version commits only while that row is still this run's.
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ConnectionLostError, GlanceDbError, LockLostError } from '../../platform/errors.js';
import type { ServerTarget } from '../../platform/url.js';
import { connectMysql, connectionError, hardClose, mysqlProbe } from './connect.js';
import type { DialectDescription } from '../../core/driver/dialect.js';
import type { Driver, DriverConfig, RecordedState, Tx, VersionRow, VersionTx } from '../../core/driver/driver.js';
import { connectionLoss, rootMessage } from '../../core/driver/failure.js';
import {
  checkNodeReady,
  needsSuperUser,
  preflight,
  PreflightError,
  readSettings,
  readSuperUser,
  retryCertification,
} from './galera.js';
import { guard } from '../../core/driver/guard.js';
import { interruptedBy, interruptedError, onInterrupt } from '../../core/driver/interrupt.js';
import { MysqlLock } from './lock.js';
import { redactSecret } from '../../platform/secret.js';
import { RoundTrips, within } from '../../core/driver/watchdog.js';
import {
  addMissingColumnsSql,
  columnNamesSql,
  createVersionTableSql,
  hasAddedColumns,
  insertSql,
  rowFrom,
  rowValues,
  selectSql,
  basisSql,
  historyBasis,
} from '../../core/driver/version-table.js';

const RESUMES =
  'The version in progress stays recorded as partly applied, and glance-db sync resumes it (re-checking a statement that had started).';

/** description: the dialect's own (./description.ts, which loads this driver and hands itself over). */
export function createServerDriver(
  config: DriverConfig,
  description: Pick<DialectDescription, 'transactionalDdl'>,
): Driver {
  const d = new MysqlDriver(config, description.transactionalDdl);
  return guard(d, { interrupted: () => interruptedError(RESUMES), lost: (err) => d.lostError(err) });
}

/**
 * Errors that mean a DDL statement's effect is already in place: table
 * exists, unknown table, duplicate column or key, cannot drop a missing
 * column or key, duplicate foreign key; trigger or routine exists or is
 * missing (1359, 1360, 1304, 1305: the rolling upgrade's expand and contract
 * create and drop triggers). Accepted only for a statement that a killed run
 * had started.
 */
const ALREADY_THERE = new Set([1050, 1051, 1060, 1061, 1091, 1826, 1304, 1305, 1359, 1360]);

/**
 * A Galera node that stops answering reads while it leaves the Primary
 * component or falls far behind: "not prepared" (1047), or a causal read
 * that timed out (1205).
 */
function notAnswering(err: unknown): unknown {
  const errno = (err as { errno?: number }).errno;
  if (errno !== 1047 && errno !== 1205) return err;
  return new PreflightError(
    `The server did not answer the pre-flight checks: ${(err as Error).message.split('\n')[0]} (error ${errno}). On Galera this is a node leaving the Primary component, or too far behind the cluster for a causal read.`,
    "Check SHOW STATUS LIKE 'wsrep_%' on that node (wsrep_cluster_status Primary, wsrep_local_state_comment Synced), or point glance-db at another node.",
    { check: 'answer', errno },
  );
}

class MysqlDriver implements Driver {
  readonly dialect = 'mysql' as const;
  readonly interruptedOutcome = RESUMES;
  private conn: Connection | null = null;
  private lockHandle: MysqlLock | null = null;
  private readonly trips: RoundTrips;
  private stopWatchingSignals: (() => void) | null = null;
  /** A Galera node (wsrep provider loaded and wsrep_on), as open() found. */
  private galera: boolean | null = null;
  /** What this run knows of the version table, to spare round trips: it exists; it has every column. Tables and columns are never dropped. */
  private versionTable = { seen: false, complete: false };

  constructor(
    private readonly config: DriverConfig,
    /** From the dialect's description: the engine runs a version in one transaction, or resumably (src/core/apply.ts). */
    readonly transactionalDdl: boolean,
  ) {
    this.trips = new RoundTrips(config.ioTimeoutMs ?? 60_000, mysqlProbe(config));
  }

  /** The connection broke or went silent: exit 18. */
  lostError(err: unknown): ConnectionLostError {
    const t = this.config.target as ServerTarget;
    const reason = this.trips.silence ?? redactSecret(rootMessage(err), t.password);
    return new ConnectionLostError(
      `The connection to MySQL database "${t.database}" at ${t.socketPath ?? `${t.host}:${t.port}`} was lost mid-run: ${reason}. The run stopped. ${RESUMES}`,
      {
        cause: err,
        hint: `Check the server and the network, then run glance-db sync again (on Galera: against any other Synced node). Its migration lock is taken over once its heartbeat is older than ${Math.round((this.config.lockLeaseMs ?? 60_000) / 1000)} s.`,
      },
    );
  }

  async open(): Promise<void> {
    this.stopWatchingSignals = onInterrupt(async () => void (await this.trips.cancelRunning(5000)));
    this.conn = await connectMysql(this.config, this.trips);
    const t = this.config.target as ServerTarget;
    try {
      // First, as a node outside the Primary component refuses even SELECT.
      const galera = await checkNodeReady(this.query);
      this.galera = galera;
      await this.conn.query(
        `SET SESSION lock_wait_timeout = ${this.config.lockTimeoutMs ? Math.ceil(this.config.lockTimeoutMs / 1000) : 31536000}`,
      );
      if (this.config.statementTimeoutMs) await this.setStatementTimeout();
      // Reads wait until this node has applied everything the cluster
      // committed before them, so a run on one node sees what a run on
      // another node just wrote.
      if (galera) await this.conn.query('SET SESSION wsrep_sync_wait = 1');
    } catch (err) {
      if (err instanceof GlanceDbError) throw err;
      throw connectionError(t, err);
    }
  }

  /** MariaDB calls it max_statement_time (seconds), MySQL max_execution_time (ms, SELECT only). */
  private async setStatementTimeout(): Promise<void> {
    const [rows] = await this.conn!.query<RowDataPacket[]>('SELECT VERSION() AS v');
    const mariadb = /mariadb/i.test(String(rows[0].v));
    await this.conn!.query(
      mariadb
        ? `SET SESSION max_statement_time = ${this.config.statementTimeoutMs / 1000}`
        : `SET SESSION max_execution_time = ${this.config.statementTimeoutMs}`,
    );
  }

  /** Known from open() (checkNodeReady reads the same wsrep_on and wsrep_provider), so asked without a round trip. */
  async replicatesWritesets(): Promise<boolean> {
    return this.galera ?? (await readSettings(this.query)).galera;
  }

  async preflight(pendingStatements: () => Promise<string[]>): Promise<void> {
    const settings = await readSettings(this.query).catch((err) => {
      throw notAnswering(err);
    });
    preflight(settings, []);
    const statements = await pendingStatements();
    if (needsSuperUser(settings, statements))
      settings.superUser = await readSuperUser(this.query).catch((err) => {
        throw notAnswering(err);
      });
    preflight(settings, statements);
  }

  exists(): boolean {
    return this.conn !== null;
  }

  async lock(): Promise<void> {
    this.lockHandle = new MysqlLock(this.config, this.trips);
    await this.lockHandle.acquire();
  }

  query = async (text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const [rows] = await this.conn!.query<RowDataPacket[]>(text, params);
    return rows as Record<string, unknown>[];
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
    );
    return rows.map((r) => String(r.t)).filter((t) => t !== `${this.config.versionTable}_lock`);
  }

  /** Fails with LockLostError, inside the caller's transaction if any, unless the lock is still ours. */
  private async fence(): Promise<void> {
    if (this.lockHandle) await this.lockHandle.assertHeld(this.conn!);
  }

  /** Writes in one transaction that commits only if, at commit time, the lock is still ours. */
  private async fenced(fn: () => Promise<unknown>): Promise<void> {
    const c = this.conn!;
    await c.beginTransaction();
    try {
      await fn();
      await this.fence();
      await c.commit();
    } catch (err) {
      await c.rollback().catch(() => {});
      throw err;
    }
  }

  async ensureVersionTable(): Promise<void> {
    // Nothing to create or add where the history just read has every column (columns are never dropped).
    if (this.versionTable.complete) return;
    const table = this.config.versionTable;
    await this.fenced(async () => {});
    await this.conn!.query(createVersionTableSql(table, 'mysql'));
    const present = (await this.query(columnNamesSql(table, 'mysql'))).map((r) => String(r.name));
    for (const sql of addMissingColumnsSql(table, 'mysql', present)) await this.conn!.query(sql);
    this.versionTable = { seen: true, complete: true };
  }

  async setNote(version: number, note: string): Promise<void> {
    await this.fenced(() =>
      this.conn!.execute(`UPDATE ${this.config.versionTable} SET note = ? WHERE version = ?`, [note, version]),
    );
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!this.versionTable.seen) {
      const tables = await this.listTables();
      if (!tables.includes(this.config.versionTable)) {
        // information_schema lists only the tables this user has a privilege on: where it shows some, ask the
        // version table itself, which answers 1142 (command denied) instead of 1146 (no such table) when it is
        // there but hidden, so that a user without SELECT on it is told so (exit 37), not "not under version control".
        if (tables.length > 0) await this.query(`SELECT 1 FROM ${this.config.versionTable} LIMIT 0`).catch(hiddenOnly);
        return [];
      }
    }
    const rows = await this.query(selectSql(this.config.versionTable));
    this.versionTable.seen = true;
    if (rows.length > 0) this.versionTable.complete ||= hasAddedColumns(rows[0]);
    return rows.map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[], basis?: string): Promise<boolean> {
    // Row edits only (DML): one fenced transaction, retried as a whole if Galera certification fails.
    let written = false;
    await retryCertification(
      () =>
        this.fenced(async () => {
          written = false;
          if (basis !== undefined && historyBasis(await this.query(basisSql(this.config.versionTable))) !== basis)
            return;
          for (const s of statements) await this.conn!.execute(s.sql, s.params as never);
          written = true;
        }),
      async () => {},
    );
    return written;
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    // The session lock is held for the whole run; checked anyway, as on PostgreSQL.
    if ((await this.query(`SELECT version FROM ${this.config.versionTable} LIMIT 1`)).length > 0) return false;
    await this.fenced(async () => {
      for (const r of rows)
        await this.conn!.execute(
          insertSql(this.config.versionTable, () => '?'),
          rowValues(r),
        );
    });
    return true;
  }

  /** A version's writes: one transaction that commits only while the lock is ours (fenced). */
  async versionTransaction<T>(fn: (tx: VersionTx) => Promise<T>): Promise<T> {
    const c = this.conn!;
    const table = this.config.versionTable;
    let result: T;
    await this.fenced(async () => {
      result = await fn({
        execute: async (text) => void (await c.query(text)),
        recorded: async (version) => {
          const r = (await this.query(`SELECT status, error FROM ${table} WHERE version = ?`, [version]))[0];
          return r
            ? ({ status: String(r.status), error: r.error == null ? null : String(r.error) } as RecordedState)
            : null;
        },
        insertRow: async (row) =>
          void (await c.execute(
            insertSql(table, () => '?'),
            rowValues(row),
          )),
        deleteRow: async (version) => void (await c.execute(`DELETE FROM ${table} WHERE version = ?`, [version])),
        updateRow: async (version, set) =>
          void (await c.execute(
            `UPDATE ${table} SET ${Object.keys(set)
              .map((k) => `${k} = ?`)
              .join(', ')} WHERE version = ?`,
            [...Object.values(set), version],
          )),
      });
    });
    return result!;
  }

  /** DDL, which commits on its own: the engine has checked the lock just before. */
  async executeAlone(text: string): Promise<void> {
    await this.conn!.query(text);
  }

  stopsRun(err: unknown): boolean {
    return err instanceof LockLostError || Boolean(interruptedBy() || this.trips.silence) || connectionLoss(err);
  }

  alreadyThere(err: unknown): boolean {
    return ALREADY_THERE.has((err as { errno?: number }).errno ?? 0);
  }

  retryCertification<T>(fn: () => Promise<T>): Promise<T> {
    // The transaction has rolled back already (fenced()).
    return retryCertification(fn, async () => {});
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const c = this.conn!;
    await c.beginTransaction();
    try {
      const result = await fn({
        query: this.query,
        run: async (text, params = []) => (await c.query<ResultSetHeader>(text, params))[0].affectedRows,
      });
      await c.commit();
      return result;
    } catch (err) {
      await c.rollback().catch(() => {});
      throw err;
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    // A connection went silent: no goodbyes that would each wait for the deadline again.
    const abandon = this.trips.silence !== null;
    if (abandon) {
      this.trips.killAll();
      this.trips.exitSoonIfHeld();
    }
    await this.lockHandle?.release(abandon).catch(() => {});
    this.lockHandle = null;
    const conn = this.conn;
    this.conn = null;
    if (conn) {
      if (!abandon) await within(conn.end(), 5000, 'closing').catch(() => {});
      hardClose(conn);
    }
    this.stopWatchingSignals?.();
    this.stopWatchingSignals = null;
  }
}

/** Rethrows a refused privilege; a missing table (1146) is what the caller expected. */
function hiddenOnly(err: unknown): void {
  if ((err as { errno?: number }).errno !== 1146) throw err;
}
