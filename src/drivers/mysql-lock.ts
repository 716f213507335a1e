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
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LockedError, LockLostError } from '../errors.js';
import type { DriverConfig } from './driver.js';
import { connectMysql, hardClose } from './mysql-connect.js';
import { interruptedBy, interruptedError } from './interrupt.js';
import type { RoundTrips } from './watchdog.js';

const POLL_MS = 200;

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

  constructor(private readonly config: DriverConfig, private readonly trips?: RoundTrips) {
    this.table = `${config.versionTable}_lock`;
    this.leaseSeconds = Math.max(1, Math.round((config.lockLeaseMs ?? 60_000) / 1000));
  }

  /** Whether this run created the lock table, so a run that changed nothing can leave no trace. */
  private created = false;

  async acquire(): Promise<void> {
    this.conn = await connectMysql(this.config, this.trips);
    const [existing] = await this.conn.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [this.table]);
    this.created = existing.length === 0;
    await this.conn.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
      id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(255) NOT NULL, server VARCHAR(255) NOT NULL, db_user VARCHAR(255) NOT NULL,
      connection_id BIGINT NOT NULL, acquired_at DATETIME(3) NOT NULL, heartbeat_at DATETIME(3) NOT NULL,
      token VARCHAR(64) NOT NULL DEFAULT '') ENGINE=InnoDB`);
    // A lock table made by an older glance-db has no token column.
    const [tokenColumn] = await this.conn.query<RowDataPacket[]>("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'token'", [this.table]);
    if (tokenColumn.length === 0) await this.conn.query(`ALTER TABLE ${this.table} ADD COLUMN token VARCHAR(64) NOT NULL DEFAULT ''`);
    const deadline = Date.now() + this.config.lockWaitMs;
    for (;;) {
      if (interruptedBy()) throw interruptedError('Nothing was changed.');
      if (await this.tryInsert()) break;
      const holder = await this.holder();
      if (holder && (await this.isDead(holder))) {
        await this.conn.execute(`DELETE FROM ${this.table} WHERE id = 1 AND server = ? AND connection_id = ?`, [holder.server, holder.connection_id]);
        continue;
      }
      if (Date.now() >= deadline) throw this.lockedError(holder);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    this.timer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor((this.leaseSeconds * 1000) / 6)));
    this.timer.unref();
  }

  private async tryInsert(): Promise<boolean> {
    const owner = `glance-db pid ${process.pid} on ${hostname()}`;
    const [res] = await this.conn!.query<ResultSetHeader>(
      `INSERT IGNORE INTO ${this.table} (id, owner, server, db_user, connection_id, acquired_at, heartbeat_at, token)
       VALUES (1, ?, CONCAT(@@hostname, ':', @@port), CURRENT_USER(), CONNECTION_ID(), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), ?)`, [owner, this.token]);
    return res.affectedRows === 1;
  }

  private async holder(): Promise<Holder | null> {
    const [rows] = await this.conn!.query<Holder[]>(
      `SELECT owner, server, db_user, connection_id, DATE_FORMAT(acquired_at, '%Y-%m-%dT%H:%i:%sZ') AS acquired_at,
              TIMESTAMPDIFF(SECOND, heartbeat_at, UTC_TIMESTAMP(3)) AS age FROM ${this.table} WHERE id = 1`);
    return rows[0] ?? null;
  }

  /** Dead: lease expired, or (same server, same user, so the process list shows it) its connection is gone. */
  private async isDead(h: Holder): Promise<boolean> {
    if (Number(h.age) > this.leaseSeconds) return true;
    const [[me]] = await this.conn!.query<RowDataPacket[]>(`SELECT CONCAT(@@hostname, ':', @@port) AS server, CURRENT_USER() AS u`);
    if (me.server !== h.server || me.u !== h.db_user) return false;
    const [alive] = await this.conn!.query<RowDataPacket[]>('SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?', [h.connection_id]);
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
    await this.conn.query(`UPDATE ${this.table} SET heartbeat_at = UTC_TIMESTAMP(3) WHERE id = 1 AND token = ?`, [this.token]).catch(() => {});
    this.beating = false;
  }

  /**
   * Proves, on the caller's connection and inside its transaction, that the
   * lock is still ours; the row stays locked until that transaction ends, so
   * no one can take it over before the caller commits.
   */
  async assertHeld(conn: Connection): Promise<void> {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT token, owner, DATE_FORMAT(acquired_at, '%Y-%m-%dT%H:%i:%sZ') AS acquired_at FROM ${this.table} WHERE id = 1 FOR UPDATE`);
    if (rows[0]?.token === this.token) return;
    const by = rows[0] ? `${rows[0].owner} (since ${rows[0].acquired_at})` : 'no one (the lock row is gone)';
    throw new LockLostError(
      `This run lost the migration lock (table ${this.table}): it is now held by ${by}, which took it over while this run was paused or cut off for longer than the lock lease (${this.leaseSeconds} s). This run stopped and changed nothing more.`,
      'The other run owns the database now: see its outcome with glance-db version or glance-db check. Do not pause glance-db (SIGSTOP, Ctrl-Z, a suspended VM) for longer than the lease; GLANCE_DB_LOCK_LEASE sets it.');
  }

  private lockedError(h: Holder | null): LockedError {
    const who = h ? `${h.owner} (server ${h.server}, connection ${h.connection_id}, since ${h.acquired_at})` : 'another glance-db run';
    return new LockedError(`The migration lock (table ${this.table}) is held by ${who}; gave up after ${Math.round(this.config.lockWaitMs / 1000)} s.`,
      `Wait for that run to finish, or raise --lock-wait. A holder that died is taken over as soon as its connection is gone, or after ${this.leaseSeconds} s without a heartbeat.`);
  }

  /** A run refused before creating the version table leaves the database as it found it. */
  private async dropIfUnused(conn: Connection): Promise<void> {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [this.config.versionTable]);
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
    const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 5000).unref())]).catch(() => {});
    await bounded(conn.query(`DELETE FROM ${this.table} WHERE id = 1 AND token = ?`, [this.token]));
    if (this.created) await bounded(this.dropIfUnused(conn));
    await bounded(conn.end());
    hardClose(conn);
  }
}
