// pg's client as glance-db uses it under slonik: every client pg makes while
// a driver is open is a WatchedClient (TCP keepalives, TLS as the URL asks,
// each round trip counted and timed by the watchdog), a PostgreSQL error's
// fields, what a failed connection means to the operator, libpq's second
// try (sslmode allow and prefer), and the short-lived side connections.
import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { ConnectionError } from '../../platform/errors.js';
import type { ServerTarget } from '../../platform/url.js';
import { countRoundTrip } from '../../platform/round-trips.js';
import { redactSecret } from '../../platform/secret.js';
import { nodeTlsOptions, overSocket, tlsHint } from '../../platform/tls.js';
import { rootMessage } from '../../core/driver/failure.js';
import { application } from '../../core/driver/application.js';
import { within, type RoundTrips, type Session } from '../../core/driver/watchdog.js';

/** pg's `ssl`: false for plain text, else Node's TLS options. */
export type PgSsl = false | ConnectionOptions;

/** A PostgreSQL error field (code, position) from slonik's error or its cause chain. */
export function pgField(err: unknown, field: 'code' | 'position'): string | undefined {
  for (
    let e = err as Record<string, unknown> | undefined, i = 0;
    e && i < 5;
    e = e.cause as Record<string, unknown>, i++
  ) {
    const v = e[field];
    if (typeof v === 'string' && (field !== 'code' || /^[0-9A-Z]{5}$/.test(v))) return v;
  }
  return undefined;
}

export interface PgClient {
  processID: number | null;
  connection?: { stream?: { destroy(): void } };
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  once(event: string, fn: () => void): void;
  on(event: string, fn: (err: unknown) => void): void;
}
type PgClientClass = new (config: Record<string, unknown>) => PgClient;

// slonik builds its pg.Client from a configuration of its own, with no way to
// ask for TCP keepalives or to see each round trip: so pg.Client is replaced,
// once, by a subclass that does both while a driver is open.
export const BaseClient = pg.Client as PgClientClass;
export const PID_COLUMN = 'glance_db_backend_pid';
/** What the replaced pg.Client does while a driver is open: count and time round trips, keep TCP alive, use TLS so. */
export interface Watching {
  trips: RoundTrips;
  keepIdleMs: number;
  ssl: PgSsl;
}
/**
 * The watchings of the drivers open in this process, by the key each one's pool
 * carries in its `ssl` setting (slonik hands that object to every pg.Client of
 * the pool unchanged). One process may hold several drivers (a run in process
 * beside a test's writers, a side database): each client must get its own
 * driver's TLS, keepalive and round-trip watch, never the last-opened one's.
 */
const KEY = 'glanceDbWatching';
const watchings = new Map<number, Watching>();
let lastKey = 0;

/** Starts the watching of the clients of one driver's pools; the returned marker goes in createPool's `ssl`. */
export function watchClients(w: Watching): { marker: Record<string, number>; stop: () => void } {
  const key = ++lastKey;
  watchings.set(key, w);
  return { marker: { [KEY]: key }, stop: () => void watchings.delete(key) };
}

/** The watching a client's configuration names; a marked configuration whose driver closed is refused. */
function watchingOf(config: Record<string, unknown>): Watching | null {
  const ssl = config.ssl as Record<string, unknown> | undefined;
  const key = ssl && typeof ssl === 'object' ? ssl[KEY] : undefined;
  if (typeof key !== 'number') return null;
  const w = watchings.get(key);
  if (!w) throw new Error('a connection asked for after its driver closed');
  return w;
}
const sessions = new WeakMap<object, Session>();

class WatchedClient extends (BaseClient as new (config: Record<string, unknown>) => PgClient) {
  constructor(config: Record<string, unknown>) {
    const w = watchingOf(config);
    // TLS as the URL asks (src/platform/tls.ts), whatever slonik's own DSN handling would have chosen.
    super(w ? { ...config, ssl: w.ssl, keepAlive: true, keepAliveInitialDelayMillis: w.keepIdleMs } : config);
    // pg emits 'error' for a connection lost while no query runs on it (the server's admin ended it, or the network
    // dropped it between two statements); with no listener that is an uncaught exception. The next query on the client
    // fails with "not queryable", which is classified as a lost connection (exit 18); this listener only keeps the
    // process alive until then.
    this.on('error', () => {});
    this.watching = w;
    if (w) {
      const s: Session = {
        id: () => this.serverPid ?? this.processID ?? undefined,
        kill: () => this.connection?.stream?.destroy(),
      };
      sessions.set(this, s);
      w.trips.add(s);
      this.once('end', () => w.trips.delete(s));
    }
  }

  /**
   * The server's own pid for this connection's transaction, as the server
   * reports it (behind PgBouncer, processID is the pooler's, not a backend's).
   */
  serverPid: number | undefined;

  private watching: Watching | null;

  query(text: string, _values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    // eslint-disable-next-line prefer-rest-params
    const r = (super.query as (...a: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]) as Promise<{
      rows: Record<string, unknown>[];
    }>;
    const s = sessions.get(this);
    const watching = this.watching;
    if (!(s && watching && r && typeof r.then === 'function')) return r;
    countRoundTrip(text);
    if (typeof text === 'string' && text.includes(PID_COLUMN)) {
      void r.then(
        (res) => (this.serverPid = Number(res.rows[0]?.[PID_COLUMN]) || undefined),
        () => {},
      );
    }
    return watching.trips.track(s, r);
  }
}
(pg as { Client: unknown }).Client = WatchedClient;

export function connectionError(t: ServerTarget, err: unknown): ConnectionError {
  const code = pgField(err, 'code');
  const reason = redactSecret(
    String((err as Error)?.cause ? ((err as Error).cause as Error).message : (err as Error)?.message),
    t.password,
  );
  // A TLS failure is the client's (no SQLSTATE); a server's refusal has one.
  const hint =
    (code ? undefined : tlsHint(t.tls, reason, 'postgresql')) ??
    (code === '3D000'
      ? `Create the database first (createdb ${t.database}), as for ${application().tool}.`
      : code === '28P01' || code === '28000'
        ? 'Check the user and password in the URL (the password is not shown).'
        : `Check that PostgreSQL listens on ${t.host}:${t.port}; --connect-timeout bounds the wait.`);
  return new ConnectionError(
    `Cannot use PostgreSQL database "${t.database}" at ${t.socketPath ?? `${t.host}:${t.port}`} as user "${t.user}": ${reason}.`,
    { cause: err, hint },
  );
}

/**
 * libpq's second try: prefer falls back to plain text when the server
 * offers no TLS; allow tries TLS when the server refused the plain-text
 * connection. Null: no second try (require and stronger never fall back).
 */
export function secondTry(t: ServerTarget, ssl: PgSsl, err: unknown): PgSsl | null {
  if (overSocket(t.host, t.socketPath)) return null;
  if (t.tls.use === 'prefer' && ssl !== false && /does not support SSL/i.test(rootMessage(err))) return false;
  if (t.tls.use === 'allow' && ssl === false && /^28/.test(pgField(err, 'code') ?? ''))
    return nodeTlsOptions(t.tls, t.host);
  return null;
}

/** A short-lived second connection, to ask about or cancel the migration session. */
export async function withSideClient<T>(
  t: ServerTarget,
  ssl: PgSsl,
  timeoutMs: number,
  fn: (c: PgClient) => Promise<T>,
): Promise<T> {
  const c = new BaseClient({
    host: t.socketPath ?? t.host,
    port: t.port,
    user: t.user,
    password: t.password || undefined,
    database: t.database,
    application_name: 'glance-db (watchdog)',
    connectionTimeoutMillis: timeoutMs,
    keepAlive: true,
    ssl,
  });
  // As for the pool's clients: a side connection the server ends while idle must not become an uncaught exception.
  c.on('error', () => {});
  try {
    return await within((async () => (await c.connect(), fn(c)))(), timeoutMs, 'second connection');
  } finally {
    await within(c.end(), 1000, 'closing').catch(() => c.connection?.stream?.destroy());
  }
}
