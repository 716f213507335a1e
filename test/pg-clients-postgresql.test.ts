// Two PostgreSQL drivers in one process (a run in process beside a test's
// writers; a side database): each pool's clients must get their own driver's
// TLS, keepalive and round-trip watch. They once shared one module-wide
// setting, so a driver opened (or failed to open) later decided the TLS of an
// earlier driver's next connection: "The server does not support SSL
// connections" for a driver that had settled on plain text (conformance's
// rolling test, under load), or plain text for one that asked for TLS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Driver } from '../src/core/driver/driver.js';
import { createDriver } from '../src/dialects/create-driver.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { SERVER_URLS } from './servers.js';

const withMode = (mode: string) => {
  const u = new URL(SERVER_URLS.postgresql);
  u.searchParams.set('sslmode', mode);
  return u.toString();
};

const driverFor = (url: string): Promise<Driver> =>
  createDriver({
    target: parseDatabaseUrl(url, process.cwd()),
    versionTable: 'glance_db_version',
    lockWaitMs: 5000,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 0,
    lockTimeoutMs: 0,
  });

type Queryable = { query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]> };

test("a driver's new connection keeps its own TLS while another driver is open, or failed to open", async () => {
  const probe = await driverFor(withMode('disable'));
  await probe.open();
  const serverTls = (await (probe as unknown as Queryable).query('SHOW ssl'))[0].ssl === 'on';
  await probe.close();

  // A settles on what the server offers: TLS where it has it (require), plain text where not (prefer falls back).
  const a = await driverFor(withMode(serverTls ? 'require' : 'prefer'));
  await a.open();
  try {
    // B asks for the other: plain text where the server has TLS; TLS where it has none (B's open fails).
    const b = await driverFor(withMode(serverTls ? 'disable' : 'require'));
    let bOpened = true;
    try {
      await b.open();
    } catch {
      bOpened = false;
    }
    try {
      assert.is(bOpened, serverTls, 'B opens only where the server has TLS');
      // Two statements at once, B not closed yet: the second needs a new connection of A's pool.
      const q = a as unknown as Queryable;
      const [, second] = await Promise.all([
        q.query('SELECT pg_sleep(0.3)'),
        q.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'),
      ]);
      assert.is(second[0].ssl, serverTls, "A's second connection uses A's TLS");
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
});

test.run();
