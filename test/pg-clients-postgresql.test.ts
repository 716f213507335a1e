// Two PostgreSQL drivers in one process (a run in process beside a test's
// writers; a side database): each pool's clients must get their own driver's
// TLS, keepalive and round-trip watch. They once shared one module-wide
// setting, so a driver opened (or failed to open) later decided the TLS of an
// earlier driver's next connection: "The server does not support SSL
// connections" for a driver that had settled on plain text (conformance's
// rolling test, under load), or plain text for one that asked for TLS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testDriver } from './dialects.js';
import { SERVER_URLS } from './servers.js';

const withMode = (mode: string) => {
  const u = new URL(SERVER_URLS.postgresql);
  u.searchParams.set('sslmode', mode);
  return u.toString();
};

test("a driver's new connection keeps its own TLS while another driver is open, or failed to open", async () => {
  const probe = await testDriver(withMode('disable'));
  await probe.open();
  const serverTls = (await probe.query('SHOW ssl'))[0].ssl === 'on';
  await probe.close();

  // A settles on what the server offers: TLS where it has it (require), plain text where not (prefer falls back).
  const a = await testDriver(withMode(serverTls ? 'require' : 'prefer'));
  await a.open();
  try {
    // B asks for the other: plain text where the server has TLS; TLS where it has none (B's open fails).
    const b = await testDriver(withMode(serverTls ? 'disable' : 'require'));
    let bOpened = true;
    try {
      await b.open();
    } catch {
      bOpened = false;
    }
    try {
      assert.is(bOpened, serverTls, 'B opens only where the server has TLS');
      // Two statements at once, B not closed yet: the second needs a new connection of A's pool.
      const [, second] = await Promise.all([
        a.query('SELECT pg_sleep(0.3)'),
        a.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'),
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
