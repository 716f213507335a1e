// The MySQL/MariaDB migration lock: one row in <version table>_lock, held
// through a connection of its own that refreshes a heartbeat (the migration
// connection may be busy in a long ALTER for minutes). A holder is dead when
// its connection is gone from the same server (seen at once), or when its
// heartbeat is older than the lease (Galera: the holder may be on another
// node, whose connections this node cannot see). So a killed run never
// blocks the next one for longer than the lease.
//
// A lease can expire under a live holder (SIGSTOP, a suspended VM, a long
// network stall): the next run then takes over. So the row carries a random
// token, and the holder proves the row still has its token before every
// statement and inside every version-table and alembic_version write (a
// SELECT ... FOR UPDATE of the row in the same transaction, so that no one
// can take the row between the check and the commit). A holder that finds
// another token stops, changing nothing more (LockLostError, exit 19).
//
// The lock's own statements run on its own connection, each in its own
// (autocommit) transaction, so eight runs starting at once contend for the
// one row: InnoDB may pick one as a deadlock victim (1213), a Galera node may
// lose certification (1213) or not be ready (1047), a row lock may time out
// (1205). Each is transient, and the statement alone is retried, a bounded
// number of times with a short jittered pause; when retries run out the run
// stops with LockBookkeepingError (exit 8), as for a lock it could not take.
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LockBookkeepingError, LockedError, LockLostError } from '../../platform/errors.js';
import type { DriverConfig } from '../../core/driver/driver.js';
import { CERTIFICATION_RETRY, type RetryOptions } from './galera.js';
import { connectMysql, hardClose } from './connect.js';
import { interruptedBy, interruptedError } from '../../core/driver/interrupt.js';
import type { RoundTrips } from '../../core/driver/watchdog.js';

const POLL_MS = 200;

/** Deadlock or lost certification (1213), lock wait timeout (1205), Galera node not ready (1047, WSREP has not yet prepared node). */
export const TRANSIENT_LOCK_ERRNOS = new Set([1213, 1205, 1047]);

/**
 * Runs one of the lock's own statements; a transient failure runs it again
 * after a pause of base * 2^(n-1), jittered to 50-150% so that runs which
 * collided do not collide again in step. Attempts as for a Galera
 * certification retry (galera.ts CERTIFICATION_RETRY).
 */
export async function retryTransient<T>(
  what: string,
  table: string,
  run: () => Promise<T>,
  opts: RetryOptions = CERTIFICATION_RETRY,
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno === undefined || !TRANSIENT_LOCK_ERRNOS.has(errno)) throw err;
      if (attempt >= opts.attempts) throw new LockBookkeepingError(table, what, errno, attempt, (err as Error).message);
      opts.onRetry?.(attempt, err);
      await sleep(Math.round(opts.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}

interface Holder extends RowDataPacket {
  owner: string;
  server: string;
  db_user: string;
  connection_id: number;
  acquired_at: string;
  age: number;
}

export class MysqlLock {
  private conn: Connection | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly table: string;
  /** This holder's fencing token, in the lock row while it holds the lock. */
  private readonly token = randomBytes(16).toString('hex');
  private readonly leaseSeconds: number;

  /** retry: the transient-error retry of the lock's own statements (tests pass a sleep that does not wait). */
  constructor(
    private readonly config: DriverConfig,
    private readonly trips?: RoundTrips,
    private readonly retry: RetryOptions = CERTIFICATION_RETRY,
  ) {
    this.table = `${config.versionTable}_lock`;
    this.leaseSeconds = Math.max(1, Math.round((config.lockLeaseMs ?? 60_000) / 1000));
  }

  /** Whether this run created the lock table, so a run that changed nothing can leave no trace. */
  private created = false;

  /** The lock's own connection; a test replaces it with a stand-in. */
  protected connect(): Promise<Connection> {
    return connectMysql(this.config, this.trips);
  }

  /** One of the lock's own statements on its connection, retried on a transient error. */
  private q<T extends RowDataPacket[] | ResultSetHeader>(what: string, sql: string, params?: unknown[]): Promise<T> {
    return retryTransient(what, this.table, async () => (await this.conn!.query<T>(sql, params))[0], this.retry);
  }

  async acquire(): Promise<void> {
    this.conn = await this.connect();
    if (interruptedBy()) throw interruptedError('Nothing was changed.');
    // Where the lock table is there already and free (every run but the first), one round trip takes the lock.
    let got = await this.tryInsert().catch((err) => {
      const errno = (err as { errno?: number }).errno;
      // No such table (1146), or a table made by an older glance-db without the token column (1054): set it up first.
      if (errno === 1146 || errno === 1054) return null;
      throw err;
    });
    if (got === null) {
      await this.setUp();
      if (interruptedBy()) throw interruptedError('Nothing was changed.');
      got = await this.tryInsert();
    }
    const deadline = Date.now() + this.config.lockWaitMs;
    while (!got) {
      const holder = await this.holder();
      if (holder && (await this.isDead(holder))) {
        await this.q(
          'remove a dead holder',
          `DELETE FROM ${this.table} WHERE id = 1 AND server = ? AND connection_id = ?`,
          [holder.server, holder.connection_id],
        );
      } else {
        if (Date.now() >= deadline) throw this.lockedError(holder);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      if (interruptedBy()) throw interruptedError('Nothing was changed.');
      got = await this.tryInsert();
    }
    this.timer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor((this.leaseSeconds * 1000) / 6)));
    this.timer.unref();
  }

  /** The lock table, created if missing (noting that this run created it), with the token column. */
  private async setUp(): Promise<void> {
    const existing = await this.q<RowDataPacket[]>(
      'look for the lock table',
      'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [this.table],
    );
    this.created = existing.length === 0;
    await this.q(
      'create the lock table',
      `CREATE TABLE IF NOT EXISTS ${this.table} (
      id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(255) NOT NULL, server VARCHAR(255) NOT NULL, db_user VARCHAR(255) NOT NULL,
      connection_id BIGINT NOT NULL, acquired_at DATETIME(3) NOT NULL, heartbeat_at DATETIME(3) NOT NULL,
      token VARCHAR(64) NOT NULL DEFAULT '') ENGINE=InnoDB`,
    );
    // A lock table made by an older glance-db has no token column.
    const tokenColumn = await this.q<RowDataPacket[]>(
      'look for the token column',
      "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'token'",
      [this.table],
    );
    if (tokenColumn.length === 0)
      await this.q(
        'add the token column',
        `ALTER TABLE ${this.table} ADD COLUMN token VARCHAR(64) NOT NULL DEFAULT ''`,
      );
  }

  private async tryInsert(): Promise<boolean> {
    const owner = `glance-db pid ${process.pid} on ${hostname()}`;
    const res = await this.q<ResultSetHeader>(
      'insert the lock row',
      `INSERT IGNORE INTO ${this.table} (id, owner, server, db_user, connection_id, acquired_at, heartbeat_at, token)
       VALUES (1, ?, CONCAT(@@hostname, ':', @@port), CURRENT_USER(), CONNECTION_ID(), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), ?)`,
      [owner, this.token],
    );
    return res.affectedRows === 1;
  }

  private async holder(): Promise<Holder | null> {
    const rows = await this.q<Holder[]>(
      'read the lock row',
      `SELECT owner, server, db_user, connection_id, DATE_FORMAT(acquired_at, '%Y-%m-%dT%H:%i:%sZ') AS acquired_at,
              TIMESTAMPDIFF(SECOND, heartbeat_at, UTC_TIMESTAMP(3)) AS age FROM ${this.table} WHERE id = 1`,
    );
    return rows[0] ?? null;
  }

  /** Dead: lease expired, or (same server, same user, so the process list shows it) its connection is gone. */
  private async isDead(h: Holder): Promise<boolean> {
    if (Number(h.age) > this.leaseSeconds) return true;
    const [me] = await this.q<RowDataPacket[]>(
      'read this server and user',
      `SELECT CONCAT(@@hostname, ':', @@port) AS server, CURRENT_USER() AS u`,
    );
    if (me.server !== h.server || me.u !== h.db_user) return false;
    const alive = await this.q<RowDataPacket[]>(
      "look for the holder's connection",
      'SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?',
      [h.connection_id],
    );
    return alive.length === 0;
  }

  /**
   * Failures are not reported from here: the lock is ours exactly as long as
   * the row holds our token, which assertHeld() checks before every change.
   */
  private beating = false;

  private async heartbeat(): Promise<void> {
    // One at a time: a connection that stalls must not pile up heartbeats.
    if (this.beating || !this.conn) return;
    this.beating = true;
    await this.q(
      'refresh the heartbeat',
      `UPDATE ${this.table} SET heartbeat_at = UTC_TIMESTAMP(3) WHERE id = 1 AND token = ?`,
      [this.token],
    ).catch(() => {});
    this.beating = false;
  }

  /**
   * Proves, on the caller's connection and inside its transaction, that the
   * lock is still ours; the row stays locked until that transaction ends, so
   * no one can take it over before the caller commits.
   */
  async assertHeld(conn: Connection): Promise<void> {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT token, owner, DATE_FORMAT(acquired_at, '%Y-%m-%dT%H:%i:%sZ') AS acquired_at FROM ${this.table} WHERE id = 1 FOR UPDATE`,
    );
    if (rows[0]?.token === this.token) return;
    const by = rows[0] ? `${rows[0].owner} (since ${rows[0].acquired_at})` : 'no one (the lock row is gone)';
    throw new LockLostError(
      `This run lost the migration lock (table ${this.table}): it is now held by ${by}, which took it over while this run was paused or cut off for longer than the lock lease (${this.leaseSeconds} s). This run stopped and changed nothing more.`,
      'The other run owns the database now: see its outcome with glance-db version or glance-db check. Do not pause glance-db (SIGSTOP, Ctrl-Z, a suspended VM) for longer than the lease; GLANCE_DB_LOCK_LEASE sets it.',
    );
  }

  private lockedError(h: Holder | null): LockedError {
    const who = h
      ? `${h.owner} (server ${h.server}, connection ${h.connection_id}, since ${h.acquired_at})`
      : 'another glance-db run';
    return new LockedError(
      `The migration lock (table ${this.table}) is held by ${who}; gave up after ${Math.round(this.config.lockWaitMs / 1000)} s.`,
      `Wait for that run to finish, or raise --lock-wait. A holder that died is taken over as soon as its connection is gone, or after ${this.leaseSeconds} s without a heartbeat.`,
    );
  }

  /** A run refused before creating the version table leaves the database as it found it. */
  private async dropIfUnused(conn: Connection): Promise<void> {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [this.config.versionTable],
    );
    if (rows.length === 0) await conn.query(`DROP TABLE IF EXISTS ${this.table}`);
  }

  /** With abandon (the connection went silent), the socket is closed without a goodbye; the lease ends the lock. */
  async release(abandon = false): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const conn = this.conn;
    this.conn = null;
    if (!conn) return;
    if (abandon) return hardClose(conn);
    const bounded = (p: Promise<unknown>) =>
      Promise.race([p, new Promise((r) => setTimeout(r, 5000).unref())]).catch(() => {});
    await bounded(
      retryTransient(
        'release the lock row',
        this.table,
        () => conn.query(`DELETE FROM ${this.table} WHERE id = 1 AND token = ?`, [this.token]),
        this.retry,
      ),
    );
    if (this.created) await bounded(this.dropIfUnused(conn));
    await bounded(conn.end());
    hardClose(conn);
  }
}
