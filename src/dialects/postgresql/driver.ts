// PostgreSQL through slonik. DDL is transactional here, so each version and
// its version-table row commit together. The migration lock is a
// transaction-scoped advisory lock taken at the start of every transaction:
// it works behind PgBouncer in transaction mode, where session locks do not
// (golang-migrate PR 992), and it dies with its connection.
//
// A paused or cut-off run cannot lose the lock without knowing, unlike on
// MySQL: the lock, the version's statements and its bookkeeping are one
// transaction, so a session the server ends (idle-in-transaction timeout
// after --io-timeout, dead TCP keepalives) rolls everything back with it,
// and the run, when it wakes, finds its connection gone (exit 18).
import { createPool, stringifyDsn, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { raw } from './pg-sql.js';
import { ConnectionLostError } from '../../platform/errors.js';
import type { ServerTarget } from '../../platform/url.js';
import type { DialectDescription } from '../../core/driver/dialect.js';
import type { Driver, DriverConfig, RecordedState, Tx, VersionRow, VersionTx } from '../../core/driver/driver.js';
import { connectionLoss, rootMessage } from '../../core/driver/failure.js';
import { guard } from '../../core/driver/guard.js';
import { interruptedBy, interruptedError, onInterrupt } from '../../core/driver/interrupt.js';
import { RoundTrips, within, type Probe, type SessionState } from '../../core/driver/watchdog.js';
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
import { redactSecret } from '../../platform/secret.js';
import { nodeTlsOptions, overSocket } from '../../platform/tls.js';
import {
  connectionError,
  secondTry,
  withSideClient,
  pgField,
  watchClients,
  type Watching,
  type PgSsl,
} from './client.js';
import { lockedError, lockKeys, LockWaitExpired, takeLock, type LockSettings } from './lock.js';

type Conn = DatabasePool | DatabaseTransactionConnection;

const ROLLED_BACK = 'The version in progress was rolled back with its transaction.';

/** description: the dialect's own (./description.ts, which loads this driver and hands itself over). */
export function createServerDriver(
  config: DriverConfig,
  description: Pick<DialectDescription, 'transactionalDdl'>,
): Driver {
  const d = new PostgresDriver(config, description.transactionalDdl);
  return guard(d, { interrupted: () => interruptedError(ROLLED_BACK), lost: (err) => d.lostError(err) });
}

class PostgresDriver implements Driver {
  readonly dialect = 'postgresql' as const;
  readonly interruptedOutcome = ROLLED_BACK;
  private pool: DatabasePool | null = null;
  private readonly target: ServerTarget;
  private readonly keys: [number, number];
  private readonly ioTimeoutMs: number;
  private readonly trips: RoundTrips;
  private stopWatchingSignals: (() => void) | null = null;
  /** client_connection_check_interval exists (PostgreSQL 14 and later). */
  private checksClient = false;
  /**
   * TLS for every connection of the run (the pool's and the side clients'):
   * libpq's sslmode, with allow and prefer settled once, at open, by the
   * first connection. Never over a Unix socket (libpq ignores sslmode there).
   */
  private ssl: PgSsl;
  /** Ends the watching of this driver's pool clients (./client.ts), set at open. */
  private unwatch: (() => void) | null = null;
  /** What this run knows of the version table, to spare round trips: it exists; it has every column. Tables and columns are never dropped. */
  private versionTable = { seen: false, complete: false };

  constructor(
    private readonly config: DriverConfig,
    /** From the dialect's description: the engine runs a version in one transaction, or resumably (src/core/apply.ts). */
    readonly transactionalDdl: boolean,
  ) {
    this.target = config.target as ServerTarget;
    this.keys = lockKeys(config.versionTable);
    this.ioTimeoutMs = config.ioTimeoutMs ?? 60_000;
    this.trips = new RoundTrips(this.ioTimeoutMs, this.probe());
    const tls = this.target.tls;
    this.ssl =
      overSocket(this.target.host, this.target.socketPath) || tls.use === 'disable' || tls.use === 'allow'
        ? false
        : nodeTlsOptions(tls, this.target.host);
  }

  private probe(): Probe {
    return {
      state: (id, ms) =>
        withSideClient<SessionState>(this.target, this.ssl, ms, async (c) => {
          const rows = (await c.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [id])).rows;
          if (rows.length === 0) return 'gone';
          return String(rows[0].state ?? '').startsWith('idle') ? 'idle' : 'active';
        }),
      cancel: (ids, ms) =>
        withSideClient(
          this.target,
          this.ssl,
          ms,
          async (c) => void (await c.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [ids])),
        ),
    };
  }

  /** The connection broke or went silent: exit 18, with what the server or the watchdog said. */
  lostError(err: unknown): ConnectionLostError {
    const t = this.target;
    const reason = this.trips.silence ?? redactSecret(rootMessage(err), t.password);
    return new ConnectionLostError(
      `The connection to PostgreSQL database "${t.database}" at ${t.socketPath ?? `${t.host}:${t.port}`} was lost mid-run: ${reason}. ` +
        'The run stopped; the version in progress was rolled back with its transaction, and versions reported applied before it stay applied.',
      {
        cause: err,
        hint: `Check the server and the network, then run glance-db sync again: it continues from the last applied version. A server session left behind is ended by the server within --io-timeout (${Math.round(this.ioTimeoutMs / 1000)} s) of its last statement, which releases the migration lock.`,
      },
    );
  }

  async open(): Promise<void> {
    const t = this.target;
    const keepIdleMs = Math.max(1000, Math.floor(this.ioTimeoutMs / 2));
    const watching: Watching = { trips: this.trips, keepIdleMs, ssl: this.ssl };
    this.unwatch?.();
    const { marker, stop } = watchClients(watching);
    this.unwatch = stop;
    this.stopWatchingSignals = onInterrupt(async () => void (await this.trips.cancelRunning(5000)));
    const uri = stringifyDsn({
      host: t.socketPath ?? t.host,
      port: t.port,
      username: t.user,
      password: t.password || undefined,
      databaseName: t.database,
      applicationName: 'glance-db',
    });
    const connect = async () => {
      this.pool = await createPool(uri, {
        connectionTimeout: this.config.connectTimeoutMs,
        // Not TLS options: the key by which each pg.Client of this pool finds this driver's watching (./client.ts),
        // which sets the TLS the URL asks for.
        ssl: marker,
        // slonik's 60 s defaults and retries are wrong for migrations: a long
        // data step is legitimate, and a retried DDL transaction is not.
        statementTimeout: 'DISABLE_TIMEOUT',
        idleInTransactionSessionTimeout: 'DISABLE_TIMEOUT',
        transactionRetryLimit: 0,
        queryRetryLimit: 0,
        connectionRetryLimit: 0,
        maximumPoolSize: 2,
        captureStackTrace: false,
        // How long closing waits for a query on a connection that broke (default 5 s, which delays the exit).
        gracefulTerminationTimeout: 1000,
        // slonik's default sends DISCARD ALL each time a connection goes back to the pool: a round trip
        // after every query, half of a no-op sync's. glance-db leaves no session state to discard (its
        // settings are SET LOCAL / set_config(..., true), its lock transaction-scoped, no temporary tables).
        resetConnection: async () => {},
      });
      // One round trip; server_version_num is read only from a server that says it is PostgreSQL.
      const server = await this.pool.one(
        raw(
          "SELECT version() AS v, CASE WHEN version() LIKE 'PostgreSQL%' THEN current_setting('server_version_num')::int END AS n",
        ),
      );
      const version = String(server.v);
      if (!version.startsWith('PostgreSQL')) throw new Error(`the server is not PostgreSQL (${version.slice(0, 40)})`);
      this.checksClient = Number(server.n) >= 140000;
    };
    try {
      try {
        await connect();
      } catch (err) {
        const second = secondTry(this.target, this.ssl, err);
        if (second === null) throw err;
        await this.pool?.end().catch(() => {});
        this.ssl = second;
        watching.ssl = second;
        await connect();
      }
    } catch (err) {
      await this.pool?.end().catch(() => {});
      this.pool = null;
      this.unwatch?.();
      this.unwatch = null;
      throw connectionError(this.target, err);
    }
  }

  exists(): boolean {
    return this.pool !== null;
  }

  async lock(): Promise<void> {
    // Per transaction: see takeLock() (./lock.ts).
  }

  private lockSettings(): LockSettings {
    return { keys: this.keys, ioTimeoutMs: this.ioTimeoutMs, checksClient: this.checksClient, config: this.config };
  }

  /**
   * A transaction that starts with the migration lock. Who holds the lock is
   * looked up after this transaction is gone: inside it, slonik would send
   * the lookup down the aborted transaction's connection.
   */
  private async locked<T>(fn: (tx: DatabaseTransactionConnection) => Promise<T>): Promise<T> {
    try {
      return await this.pool!.transaction(async (tx) => {
        await takeLock(tx, this.lockSettings());
        return fn(tx);
      });
    } catch (err) {
      if (err instanceof LockWaitExpired) throw await lockedError(this.pool!, this.lockSettings(), this.target);
      throw err;
    }
  }

  query = async (text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    return [...(await this.pool!.any(raw(text, params)))] as Record<string, unknown>[];
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    return rows.map((r) => String(r.table_name));
  }

  private async hasVersionTable(c: Conn): Promise<boolean> {
    return (await c.oneFirst(raw('SELECT to_regclass($1) IS NOT NULL', [this.config.versionTable]))) === true;
  }

  async ensureVersionTable(): Promise<void> {
    // Nothing to create or add where the history just read has every column (columns are never dropped).
    if (this.versionTable.complete) return;
    const table = this.config.versionTable;
    await this.locked(async (tx) => {
      await tx.query(raw(createVersionTableSql(table, 'postgresql')));
      const present = (await tx.any(raw(columnNamesSql(table, 'postgresql')))).map((r) =>
        String((r as { name: unknown }).name),
      );
      for (const sql of addMissingColumnsSql(table, 'postgresql', present)) await tx.query(raw(sql));
    });
    this.versionTable = { seen: true, complete: true };
  }

  async setNote(version: number, note: string): Promise<void> {
    await this.locked((tx) =>
      tx.query(raw(`UPDATE ${this.config.versionTable} SET note = $1 WHERE version = $2`, [note, version])),
    );
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!this.versionTable.seen && !(await this.hasVersionTable(this.pool!))) return [];
    const rows = await this.query(selectSql(this.config.versionTable));
    this.versionTable.seen = true;
    if (rows.length > 0) this.versionTable.complete ||= hasAddedColumns(rows[0]);
    return rows.map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[], basis?: string): Promise<boolean> {
    return this.locked(async (tx) => {
      if (basis !== undefined && historyBasis([...(await tx.any(raw(basisSql(this.config.versionTable))))]) !== basis)
        return false;
      for (const s of statements) {
        let i = 0;
        await tx.query(
          raw(
            s.sql.replace(/\?/g, () => `$${++i}`),
            s.params,
          ),
        );
      }
      return true;
    });
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    return this.locked(async (tx) => {
      // The lock is per transaction here: another run may have placed the database since we looked.
      if ((await tx.maybeOneFirst(raw(`SELECT version FROM ${this.config.versionTable} LIMIT 1`))) !== null)
        return false;
      for (const r of rows)
        await tx.query(
          raw(
            insertSql(this.config.versionTable, (i) => `$${i}`),
            rowValues(r),
          ),
        );
      return true;
    });
  }

  /** A version's transaction: the migration lock first, then whatever the engine runs (src/core/apply.ts). */
  async versionTransaction<T>(fn: (tx: VersionTx) => Promise<T>): Promise<T> {
    const table = this.config.versionTable;
    return this.locked((tx) =>
      fn({
        execute: async (text) => void (await tx.query(raw(text))),
        recorded: async (version) => {
          const r = await tx.maybeOne(raw(`SELECT status, error FROM ${table} WHERE version = $1`, [version]));
          return r
            ? ({ status: String(r.status), error: r.error == null ? null : String(r.error) } as RecordedState)
            : null;
        },
        insertRow: async (row) =>
          void (await tx.query(
            raw(
              insertSql(table, (i) => `$${i}`),
              rowValues(row),
            ),
          )),
        deleteRow: async (version) => void (await tx.query(raw(`DELETE FROM ${table} WHERE version = $1`, [version]))),
        updateRow: async (version, set) => {
          const cols = Object.keys(set);
          await tx.query(
            raw(
              `UPDATE ${table} SET ${cols.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE version = $${cols.length + 1}`,
              [...Object.values(set), version],
            ),
          );
        },
      }),
    );
  }

  /** Past a signal, a silent connection or a lost one, the error is the run's, not the statement's. */
  stopsRun(err: unknown): boolean {
    return Boolean(interruptedBy() || this.trips.silence || connectionLoss(err));
  }

  errorPosition(err: unknown): number | undefined {
    return Number(pgField(err, 'position')) || undefined;
  }

  /**
   * Like a version's transaction (the migration lock first), but on one pool
   * connection with BEGIN and COMMIT of its own: slonik's transaction()
   * doubled the cost of the small transactions metadefs and purge run by the
   * dozen.
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.pool!.connect(async (c) => {
        await c.query(raw('BEGIN'));
        try {
          // Uncontended, the lock and the statement limits take one round trip; else wait as a version does.
          const [a, b] = this.keys;
          const got = await c.oneFirst(
            raw(
              `SELECT pg_try_advisory_xact_lock($1, $2) AND set_config('lock_timeout', $3, true) IS NOT NULL AND set_config('statement_timeout', $4, true) IS NOT NULL`,
              [a, b, String(this.config.lockTimeoutMs), String(this.config.statementTimeoutMs)],
            ),
          );
          if (!got) await takeLock(c as unknown as DatabaseTransactionConnection, this.lockSettings());
          const result = await fn({
            query: async (text, params = []) => [...(await c.any(raw(text, params)))] as Record<string, unknown>[],
            run: async (text, params = []) => (await c.query(raw(text, params))).rowCount,
          });
          await c.query(raw('COMMIT'));
          return result;
        } catch (err) {
          await c.query(raw('ROLLBACK')).catch(() => {});
          throw err;
        }
      });
    } catch (err) {
      if (err instanceof LockWaitExpired) throw await lockedError(this.pool!, this.lockSettings(), this.target);
      throw err;
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    // A connection that went silent or a signal: do not wait for goodbyes the server may never answer.
    if (this.trips.silence) {
      this.trips.killAll();
      this.trips.exitSoonIfHeld();
    }
    const pool = this.pool;
    this.pool = null;
    if (pool) await within(pool.end(), Math.min(this.ioTimeoutMs, 5000), 'closing').catch(() => this.trips.killAll());
    this.stopWatchingSignals?.();
    this.stopWatchingSignals = null;
    this.unwatch?.();
    this.unwatch = null;
  }
}
