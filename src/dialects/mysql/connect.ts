// Opening a MySQL/MariaDB connection, and the error an operator sees when
// that fails: host, port, database and user named, the password never.
// Connections of a run have TCP keepalives and, with a RoundTrips watchdog,
// a deadline on every round trip (watchdog.ts).
import tls from 'node:tls';
import mysqlCore from 'mysql2';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { nodeTlsOptions, tlsHint, type TlsSettings } from '../../platform/tls.js';
import { ConnectionError } from '../../platform/errors.js';
import type { ServerTarget } from '../../platform/url.js';
import type { DriverConfig } from '../../core/driver/driver.js';
import { application } from '../../core/driver/application.js';
import { redactSecret } from '../../platform/secret.js';
import { countRoundTrip } from '../../platform/round-trips.js';
import { within, type Probe, type RoundTrips, type Session, type SessionState } from '../../core/driver/watchdog.js';

/**
 * Whether the run's connections use TLS, settled by the first one when the URL
 * says PREFERRED (TLS if the server offers it): every later connection of the
 * run (the lock's, the watchdog's) then does the same.
 */
const preferredSettled = new WeakMap<TlsSettings, boolean>();

export async function connectMysql(config: DriverConfig, trips?: RoundTrips): Promise<Connection> {
  const t = config.target as ServerTarget;
  let conn: Connection;
  const s = t.tls;
  const withTls = s.use !== 'disable' && preferredSettled.get(s) !== false;
  try {
    try {
      conn = await open(config, withTls);
    } catch (err) {
      // PREFERRED: plain text when the server offers no TLS (as the MySQL client); REQUIRED and stronger never fall back.
      if (!(withTls && s.use === 'prefer' && (err as { code?: string }).code === 'HANDSHAKE_NO_SSL_SUPPORT')) throw err;
      preferredSettled.set(s, false);
      conn = await open(config, false);
    }
  } catch (err) {
    throw connectionError(t, err);
  }
  if (withTls && s.use === 'prefer') preferredSettled.set(s, true);
  if (trips) watch(conn, trips);
  return conn;
}

/** One connection, with TLS as the URL asks (src/platform/tls.ts) or without. */
function open(config: DriverConfig, withTls: boolean): Promise<Connection> {
  const t = config.target as ServerTarget;
  const options = nodeTlsOptions(t.tls, t.host);
  const core = mysqlCore.createConnection({
    host: t.host,
    port: t.port,
    user: t.user,
    password: t.password,
    database: t.database,
    socketPath: t.socketPath,
    connectTimeout: config.connectTimeoutMs,
    charset: t.params.charset === 'utf8' ? 'UTF8_GENERAL_CI' : 'UTF8MB4_GENERAL_CI',
    multipleStatements: false,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    enableKeepAlive: true,
    keepAliveInitialDelay: Math.max(1000, Math.floor((config.ioTimeoutMs ?? 60_000) / 2)),
    ...(withTls
      ? {
          ssl: {
            ca: options.ca as string[] | undefined,
            cert: options.cert as Buffer | undefined,
            key: options.key as Buffer | undefined,
            passphrase: options.passphrase,
            ciphers: options.ciphers,
            minVersion: options.minVersion,
            maxVersion: options.maxVersion,
            rejectUnauthorized: t.tls.verifyChain,
            // mysql2's own host-name check is replaced below (it checks 'localhost' for an IP address host).
            verifyIdentity: t.tls.verifyHost,
          },
        }
      : {}),
  });
  if (withTls) checkedTls(core, options);
  const conn = core.promise() as unknown as Connection;
  return new Promise((resolve, reject) => {
    core.once('connect', () => resolve(conn));
    core.once('error', reject);
  });
}

/**
 * mysql2 3.x builds the TLS socket in startTLS from a fixed set of options:
 * no CRL, and for a host given as an IP address no server name, so its
 * host-name check (tls.checkServerIdentity) is made against 'localhost'
 * whatever the address, and a certificate for localhost passes for
 * 127.0.0.2. While startTLS runs (synchronously), tls.checkServerIdentity
 * checks the URL's host instead (nodeTlsOptions), and tls.createSecureContext
 * adds the CRL; both are put back before startTLS returns.
 */
function checkedTls(core: mysqlCore.Connection, options: tls.ConnectionOptions): void {
  const c = core as unknown as { startTLS: (onSecure: (err?: Error) => void) => unknown };
  const startTLS = c.startTLS.bind(core);
  c.startTLS = (onSecure) => {
    const check = tls.checkServerIdentity;
    const context = tls.createSecureContext;
    tls.checkServerIdentity = options.checkServerIdentity ?? check;
    if (options.crl) tls.createSecureContext = (o) => context({ ...o, crl: options.crl });
    try {
      return startTLS(onSecure);
    } finally {
      tls.checkServerIdentity = check;
      tls.createSecureContext = context;
    }
  };
}

/** Closes the socket at once: mysql2's destroy() only half-closes it, which a silent peer never completes. */
export function hardClose(conn: Connection): void {
  conn.destroy();
  (conn as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Every round trip of conn goes through the watchdog; the connection can be ended at once. */
function watch(conn: Connection, trips: RoundTrips): void {
  const s: Session = { id: () => conn.threadId ?? undefined, kill: () => hardClose(conn) };
  trips.add(s);
  const c = conn as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  // mysql2 prepares a statement on its first execute() on a connection (one more round trip), then reuses it.
  const prepared = new Set<string>();
  const what: Record<string, (a: unknown[]) => [unknown, number]> = {
    query: (a) => [a[0], 1],
    execute: (a) => {
      const sql = typeof a[0] === 'string' ? a[0] : String((a[0] as { sql?: unknown })?.sql);
      const first = !prepared.has(sql);
      prepared.add(sql);
      return [sql, first ? 2 : 1];
    },
    beginTransaction: () => ['START TRANSACTION', 1],
    commit: () => ['COMMIT', 1],
    rollback: () => ['ROLLBACK', 1],
  };
  for (const m of Object.keys(what)) {
    const original = c[m].bind(conn);
    c[m] = (...args: unknown[]) => {
      countRoundTrip(...what[m](args));
      return trips.track(s, original(...args));
    };
  }
  const end = c.end.bind(conn);
  c.end = async () => {
    trips.delete(s);
    await end();
  };
}

/** Asks about, or cancels, the run's sessions over a short-lived second connection. */
export function mysqlProbe(config: DriverConfig): Probe {
  const side = async <T>(ms: number, fn: (c: Connection) => Promise<T>): Promise<T> => {
    const c = await within(connectMysql({ ...config, connectTimeoutMs: ms }), ms, 'second connection');
    try {
      return await within(fn(c), ms, 'second connection');
    } finally {
      await within(c.end(), 1000, 'closing').catch(() => hardClose(c));
    }
  };
  return {
    state: (id, ms) =>
      side<SessionState>(ms, async (c) => {
        const [rows] = await c.query<RowDataPacket[]>(
          'SELECT COMMAND AS command FROM information_schema.PROCESSLIST WHERE ID = ?',
          [id],
        );
        if (rows.length === 0 || rows[0].command === 'Killed') return 'gone';
        return rows[0].command === 'Sleep' ? 'idle' : 'active';
      }),
    cancel: (ids, ms) =>
      side(ms, async (c) => {
        for (const id of ids) await c.query(`KILL QUERY ${Number(id)}`).catch(() => {});
      }),
  };
}

export function connectionError(t: ServerTarget, err: unknown): ConnectionError {
  const e = err as { code?: string; message?: string };
  const reason = redactSecret(e.message || e.code || String(err), t.password);
  // A TLS failure is the client's; a server's refusal has an error number.
  const hint =
    (typeof (err as { errno?: unknown }).errno === 'number' ? undefined : tlsHint(t.tls, reason, 'mysql')) ??
    (e.code === 'ER_BAD_DB_ERROR'
      ? `Create the database first (CREATE DATABASE ${t.database} CHARACTER SET utf8), as for ${application().tool}.`
      : e.code === 'ER_ACCESS_DENIED_ERROR'
        ? 'Check the user and password in the URL (the password is not shown).'
        : `Check that MySQL/MariaDB listens on ${t.socketPath ?? `${t.host}:${t.port}`}; --connect-timeout bounds the wait.`);
  return new ConnectionError(
    `Cannot use MySQL database "${t.database}" at ${t.socketPath ?? `${t.host}:${t.port}`} as user "${t.user}": ${reason}.`,
    { cause: err, hint },
  );
}
