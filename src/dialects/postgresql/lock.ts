// The migration lock on PostgreSQL: a transaction-scoped advisory lock on
// two keys, taken at the start of every transaction (it works behind
// PgBouncer in transaction mode and dies with its connection), and who holds
// it when it is not granted within --lock-wait.
import type { DatabasePool, DatabaseTransactionConnection } from 'slonik';
import { LockedError } from '../../platform/errors.js';
import { displayServer, type ServerTarget } from '../../platform/url.js';
import type { DriverConfig } from '../../core/driver/driver.js';
import { PID_COLUMN, pgField } from './client.js';
import { raw } from './pg-sql.js';

/** Two positive int4 advisory-lock keys: "gldb" (0x676c6462) and a hash of the version table name. */
export function lockKeys(table: string): [number, number] {
  let h = 0x811c9dc5;
  for (const ch of table) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return [0x676c6462, (h >>> 0) & 0x7fffffff];
}

/** The advisory lock was not granted within --lock-wait. */
export class LockWaitExpired extends Error {}

/** What taking the lock needs to know of the run. */
export interface LockSettings {
  keys: [number, number];
  ioTimeoutMs: number;
  /** client_connection_check_interval exists (PostgreSQL 14 and later). */
  checksClient: boolean;
  config: Pick<DriverConfig, 'lockWaitMs' | 'lockTimeoutMs' | 'statementTimeoutMs'>;
}

/** Waits for the advisory lock inside the transaction, bounded by --lock-wait, then sets the statement limits. */
export async function takeLock(tx: DatabaseTransactionConnection, s: LockSettings): Promise<void> {
  const [a, b] = s.keys;
  // Before the lock is granted, so that a run cut off while waiting cannot
  // hold it forever: the server ends this session once the client has been
  // silent for --io-timeout inside the transaction, when its TCP keepalives
  // go unanswered, and (14+) when the client's socket is gone even while a
  // statement runs. None of these fire during a long statement of a live run.
  const io = Math.max(1, Math.round(s.ioTimeoutMs / 1000));
  const keepIdle = Math.max(1, Math.floor(io / 3));
  const keepInterval = Math.max(1, Math.floor(io / 9));
  // Uncontended, this one round trip also takes the lock and sets the statement limits (the CASE
  // evaluates its branch only once the lock is granted); a run that has to wait waits below.
  const { got } = await tx.one(
    raw(
      `SELECT CASE WHEN pg_try_advisory_xact_lock($4, $5) THEN set_config('lock_timeout', $6, true) IS NOT NULL AND set_config('statement_timeout', $7, true) IS NOT NULL ELSE false END AS got,
    pg_backend_pid() AS ${PID_COLUMN}, set_config('idle_in_transaction_session_timeout', $1, true), set_config('tcp_keepalives_idle', $2, true),
    set_config('tcp_keepalives_interval', $3, true), set_config('tcp_keepalives_count', '3', true)${s.checksClient ? ", set_config('client_connection_check_interval', $2, true)" : ''}`,
      [
        `${io}s`,
        String(keepIdle),
        String(keepInterval),
        a,
        b,
        String(s.config.lockTimeoutMs),
        String(s.config.statementTimeoutMs),
      ],
    ),
  );
  if (got === true) return;
  if (s.config.lockWaitMs === 0) throw new LockWaitExpired();
  await tx.query(raw(`SET LOCAL lock_timeout = ${Math.max(1, s.config.lockWaitMs)}`));
  try {
    await tx.query(raw('SELECT pg_advisory_xact_lock($1, $2)', [a, b]));
  } catch (err) {
    if (pgField(err, 'code') === '55P03') throw new LockWaitExpired();
    throw err;
  }
  await tx.query(raw(`SET LOCAL lock_timeout = ${s.config.lockTimeoutMs}`));
  await tx.query(raw(`SET LOCAL statement_timeout = ${s.config.statementTimeoutMs}`));
}

export async function lockedError(pool: DatabasePool, s: LockSettings, target: ServerTarget): Promise<LockedError> {
  const [a, b] = s.keys;
  const holder = await pool
    .maybeOne(
      raw(
        `SELECT a.pid, a.usename, a.application_name, coalesce(a.client_addr::text, 'local') AS client, a.xact_start::text AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1 AND l.objid = $2 AND l.granted LIMIT 1`,
        [a, b],
      ),
    )
    .catch(() => null);
  const who = holder
    ? `server process ${holder.pid} (${holder.application_name || 'no application name'}, user ${holder.usename}, from ${holder.client}, since ${holder.since})`
    : 'another session';
  return new LockedError(
    `The migration lock of ${displayServer(target)} is held by ${who}; gave up after ${Math.round(s.config.lockWaitMs / 1000)} s.`,
    `Another glance-db run is migrating this database: wait for it, or raise --lock-wait. The lock ends with that transaction: a run stopped by Ctrl-C or SIGTERM cancels its statement and ends it at once; a run killed with kill -9 or cut off from the server is ended by the server within --io-timeout (${Math.round(s.ioTimeoutMs / 1000)} s) of its last statement${s.checksClient ? ' (kill -9: as soon as the server notices the closed socket, even mid-statement)' : ''}.`,
  );
}
