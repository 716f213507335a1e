// PostgreSQL through slonik. DDL is transactional here, so each version and
// its version-table row commit together. The migration lock is a
// transaction-scoped advisory lock taken at the start of every transaction:
// it works behind PgBouncer in transaction mode, where session locks do not
// (golang-migrate PR 992), and it dies with its connection.
import { createPool, sql, stringifyDsn, type DatabasePool, type DatabaseTransactionConnection, type QuerySqlToken } from 'slonik';
import { ConnectionError, LockedError } from '../errors.js';
import { displayServer, type ServerTarget } from '../url.js';
import type { ApplyOutcome, Driver, DriverConfig, PendingVersion, VersionRow } from './driver.js';
import { statementFailed } from './failure.js';
import { columnsQuery, createVersionTableSql, ensureColumnsSql, insertSql, rowFrom, rowValues, selectSql } from './version-table.js';
import { redactSecret } from './secret.js';

type Conn = DatabasePool | DatabaseTransactionConnection;

/** A slonik query token from plain SQL text: migration files are the source of truth, not template literals. */
function raw(text: string, values: unknown[] = []): QuerySqlToken {
  return Object.freeze({ ...sql.unsafe``, sql: text, values: values as never });
}

/** A PostgreSQL error field (code, position) from slonik's error or its cause chain. */
function pgField(err: unknown, field: 'code' | 'position'): string | undefined {
  for (let e = err as Record<string, unknown> | undefined, i = 0; e && i < 5; e = e.cause as Record<string, unknown>, i++) {
    const v = e[field];
    if (typeof v === 'string' && (field !== 'code' || /^[0-9A-Z]{5}$/.test(v))) return v;
  }
  return undefined;
}

/** Two positive int4 advisory-lock keys: "glance" and a hash of the version table name. */
export function lockKeys(table: string): [number, number] {
  let h = 0x811c9dc5;
  for (const ch of table) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return [0x676c6462, (h >>> 0) & 0x7fffffff];
}

/** The advisory lock was not granted within --lock-wait. */
class LockWaitExpired extends Error {}

export function createServerDriver(config: DriverConfig): Driver {
  return new PostgresDriver(config);
}

class PostgresDriver implements Driver {
  readonly dialect = 'postgresql' as const;
  private pool: DatabasePool | null = null;
  private readonly target: ServerTarget;
  private readonly keys: [number, number];

  constructor(private readonly config: DriverConfig) {
    this.target = config.target as ServerTarget;
    this.keys = lockKeys(config.versionTable);
  }

  async open(): Promise<void> {
    const t = this.target;
    const uri = stringifyDsn({ host: t.socketPath ?? t.host, port: t.port, username: t.user, password: t.password || undefined, databaseName: t.database, applicationName: 'glance-db' });
    try {
      this.pool = await createPool(uri, {
        connectionTimeout: this.config.connectTimeoutMs,
        // slonik's 60 s defaults and retries are wrong for migrations: a long
        // data step is legitimate, and a retried DDL transaction is not.
        statementTimeout: 'DISABLE_TIMEOUT',
        idleInTransactionSessionTimeout: 'DISABLE_TIMEOUT',
        transactionRetryLimit: 0,
        queryRetryLimit: 0,
        connectionRetryLimit: 0,
        maximumPoolSize: 2,
        captureStackTrace: false,
      });
      const version = String(await this.pool.oneFirst(raw('SELECT version()')));
      if (!version.startsWith('PostgreSQL')) throw new Error(`the server is not PostgreSQL (${version.slice(0, 40)})`);
    } catch (err) {
      await this.pool?.end().catch(() => {});
      this.pool = null;
      throw this.connectionError(err);
    }
  }

  private connectionError(err: unknown): ConnectionError {
    const t = this.target;
    const code = pgField(err, 'code');
    const reason = redactSecret(String((err as Error)?.cause ? ((err as Error).cause as Error).message : (err as Error)?.message), t.password);
    const hint =
      code === '3D000' ? `Create the database first (createdb ${t.database}), as for glance-manage.`
        : code === '28P01' || code === '28000' ? 'Check the user and password in the URL (the password is not shown).'
          : `Check that PostgreSQL listens on ${t.host}:${t.port}; --connect-timeout bounds the wait.`;
    return new ConnectionError(`Cannot use PostgreSQL database "${t.database}" at ${t.socketPath ?? `${t.host}:${t.port}`} as user "${t.user}": ${reason}.`, { cause: err, hint });
  }

  exists(): boolean {
    return this.pool !== null;
  }

  async lock(): Promise<void> {
    // Per transaction: see takeLock().
  }

  async unlock(): Promise<void> {}

  /** Waits for the advisory lock inside the transaction, bounded by --lock-wait, then sets the statement limits. */
  private async takeLock(tx: DatabaseTransactionConnection): Promise<void> {
    const [a, b] = this.keys;
    if (this.config.lockWaitMs === 0) {
      if (!(await tx.oneFirst(raw('SELECT pg_try_advisory_xact_lock($1, $2)', [a, b])))) throw new LockWaitExpired();
    } else {
      await tx.query(raw(`SET LOCAL lock_timeout = ${Math.max(1, this.config.lockWaitMs)}`));
      try {
        await tx.query(raw('SELECT pg_advisory_xact_lock($1, $2)', [a, b]));
      } catch (err) {
        if (pgField(err, 'code') === '55P03') throw new LockWaitExpired();
        throw err;
      }
    }
    await tx.query(raw(`SET LOCAL lock_timeout = ${this.config.lockTimeoutMs}`));
    await tx.query(raw(`SET LOCAL statement_timeout = ${this.config.statementTimeoutMs}`));
  }

  /**
   * A transaction that starts with the migration lock. Who holds the lock is
   * looked up after this transaction is gone: inside it, slonik would send
   * the lookup down the aborted transaction's connection.
   */
  private async locked<T>(fn: (tx: DatabaseTransactionConnection) => Promise<T>): Promise<T> {
    try {
      return await this.pool!.transaction(async (tx) => {
        await this.takeLock(tx);
        return fn(tx);
      });
    } catch (err) {
      if (err instanceof LockWaitExpired) throw await this.lockedError();
      throw err;
    }
  }

  private async lockedError(): Promise<LockedError> {
    const [a, b] = this.keys;
    const holder = await this.pool!.maybeOne(raw(
      `SELECT a.pid, a.usename, a.application_name, coalesce(a.client_addr::text, 'local') AS client, a.xact_start::text AS since
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted LIMIT 1`, [a, b])).catch(() => null);
    const who = holder ? `server process ${holder.pid} (${holder.application_name || 'no application name'}, user ${holder.usename}, from ${holder.client}, since ${holder.since})` : 'another session';
    return new LockedError(`The migration lock of ${displayServer(this.target)} is held by ${who}; gave up after ${Math.round(this.config.lockWaitMs / 1000)} s.`,
      'Another glance-db run is migrating this database: wait for it, or raise --lock-wait. The lock ends with that transaction, so a killed run never leaves it behind.');
  }

  query = async (text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    return [...(await this.pool!.any(raw(text, params)))] as Record<string, unknown>[];
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`);
    return rows.map((r) => String(r.table_name));
  }

  private async hasVersionTable(c: Conn): Promise<boolean> {
    return (await c.oneFirst(raw('SELECT to_regclass($1) IS NOT NULL', [this.config.versionTable]))) === true;
  }

  async ensureVersionTable(): Promise<void> {
    const table = this.config.versionTable;
    await this.locked(async (tx) => {
      await tx.query(raw(createVersionTableSql(table, 'postgresql')));
      // A table made by an earlier release gets the columns added since.
      const columns = (await tx.any(raw(columnsQuery(table, 'postgresql')))).map((r) => String(r.name));
      for (const a of ensureColumnsSql(table, 'postgresql', columns)) await tx.query(raw(a));
    });
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!(await this.hasVersionTable(this.pool!))) return [];
    const columns = (await this.query(columnsQuery(this.config.versionTable, 'postgresql'))).map((r) => String(r.name));
    return (await this.query(selectSql(this.config.versionTable, columns))).map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[]): Promise<void> {
    await this.locked(async (tx) => {
      for (const s of statements) {
        let i = 0;
        await tx.query(raw(s.sql.replace(/\?/g, () => `$${++i}`), s.params));
      }
    });
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    return this.locked(async (tx) => {
      // The lock is per transaction here: another run may have placed the database since we looked.
      if ((await tx.maybeOneFirst(raw(`SELECT version FROM ${this.config.versionTable} LIMIT 1`))) !== null) return false;
      for (const r of rows) await tx.query(raw(insertSql(this.config.versionTable, (i) => `$${i}`), rowValues(r)));
      return true;
    });
  }

  async applyVersion(p: PendingVersion): Promise<ApplyOutcome> {
    return this.locked(async (tx) => {
      // Under the lock: a concurrent run may have applied it while we waited.
      const done = await tx.maybeOneFirst(raw(`SELECT version FROM ${this.config.versionTable} WHERE version = $1`, [p.version]));
      if (done !== null) return 'already-applied' as const;
      const started = performance.now();
      for (const s of p.statements) {
        try {
          await tx.query(raw(s.text));
        } catch (err) {
          const pos = Number(pgField(err, 'position')) || undefined;
          throw statementFailed(p, s, err, `Rolled back: the database is still at the version before ${p.version}.`, pos);
        }
      }
      const row = { ...p.row, executionMs: Math.round(performance.now() - started) };
      for (const a of p.after) await tx.query(raw(a));
      await tx.query(raw(insertSql(this.config.versionTable, (i) => `$${i}`), rowValues(row)));
      return 'applied' as const;
    });
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = null;
  }
}
