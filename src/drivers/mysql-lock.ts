// The MySQL/MariaDB migration lock: one row in <version table>_lock, held
// through a connection of its own that refreshes a heartbeat (the migration
// connection may be busy in a long ALTER for minutes). A holder is dead when
// its connection is gone from the same server (seen at once), or when its
// heartbeat is older than the lease (Galera: the holder may be on another
// node, whose connections this node cannot see). So a killed run never
// blocks the next one for longer than the lease.
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { hostname } from 'node:os';
import { LockedError } from '../errors.js';
import type { DriverConfig } from './driver.js';
import { connectMysql } from './mysql-connect.js';

const LEASE_SECONDS = 60;
const HEARTBEAT_MS = 10_000;
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

  constructor(private readonly config: DriverConfig) {
    this.table = `${config.versionTable}_lock`;
  }

  /** Whether this run created the lock table, so a run that changed nothing can leave no trace. */
  private created = false;

  async acquire(): Promise<void> {
    this.conn = await connectMysql(this.config);
    const [existing] = await this.conn.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [this.table]);
    this.created = existing.length === 0;
    await this.conn.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
      id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(255) NOT NULL, server VARCHAR(255) NOT NULL, db_user VARCHAR(255) NOT NULL,
      connection_id BIGINT NOT NULL, acquired_at DATETIME(3) NOT NULL, heartbeat_at DATETIME(3) NOT NULL) ENGINE=InnoDB`);
    const deadline = Date.now() + this.config.lockWaitMs;
    for (;;) {
      if (await this.tryInsert()) break;
      const holder = await this.holder();
      if (holder && (await this.isDead(holder))) {
        await this.conn.execute(`DELETE FROM ${this.table} WHERE id = 1 AND server = ? AND connection_id = ?`, [holder.server, holder.connection_id]);
        continue;
      }
      if (Date.now() >= deadline) throw this.lockedError(holder);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private async tryInsert(): Promise<boolean> {
    const owner = `glance-db pid ${process.pid} on ${hostname()}`;
    const [res] = await this.conn!.query<ResultSetHeader>(
      `INSERT IGNORE INTO ${this.table} (id, owner, server, db_user, connection_id, acquired_at, heartbeat_at)
       VALUES (1, ?, CONCAT(@@hostname, ':', @@port), CURRENT_USER(), CONNECTION_ID(), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`, [owner]);
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
    if (Number(h.age) > LEASE_SECONDS) return true;
    const [[me]] = await this.conn!.query<RowDataPacket[]>(`SELECT CONCAT(@@hostname, ':', @@port) AS server, CURRENT_USER() AS u`);
    if (me.server !== h.server || me.u !== h.db_user) return false;
    const [alive] = await this.conn!.query<RowDataPacket[]>('SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?', [h.connection_id]);
    return alive.length === 0;
  }

  private async heartbeat(): Promise<void> {
    await this.conn?.query(`UPDATE ${this.table} SET heartbeat_at = UTC_TIMESTAMP(3) WHERE id = 1 AND connection_id = CONNECTION_ID()`).catch(() => {});
  }

  private lockedError(h: Holder | null): LockedError {
    const who = h ? `${h.owner} (server ${h.server}, connection ${h.connection_id}, since ${h.acquired_at})` : 'another glance-db run';
    return new LockedError(`The migration lock (table ${this.table}) is held by ${who}; gave up after ${Math.round(this.config.lockWaitMs / 1000)} s.`,
      `Wait for that run to finish, or raise --lock-wait. A holder that died is taken over as soon as its connection is gone, or after ${LEASE_SECONDS} s without a heartbeat.`);
  }

  /** A run refused before creating the version table leaves the database as it found it. */
  private async dropIfUnused(): Promise<void> {
    const [rows] = await this.conn!.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [this.config.versionTable]);
    if (rows.length === 0) await this.conn!.query(`DROP TABLE IF EXISTS ${this.table}`);
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.conn?.query(`DELETE FROM ${this.table} WHERE id = 1 AND connection_id = CONNECTION_ID()`).catch(() => {});
    if (this.created) await this.dropIfUnused().catch(() => {});
    await this.conn?.end().catch(() => {});
    this.conn = null;
  }
}
