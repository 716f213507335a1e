// Number flags and manifests have bounds (issue 16 item 15): the largest
// accepted duration reaches Node's timers and each server without overflow;
// one more is a usage error (exit 2) naming the range. The refusals
// themselves are in the bad-input corpus.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlEnv, postgresEnv, sqliteEnv } from './dialects.js';
import { cli, runCli } from './helpers.js';
import { MAX_SECONDS } from '../src/cli/flags.js';

const MAX = [
  '--lock-wait',
  String(MAX_SECONDS),
  '--connect-timeout',
  String(MAX_SECONDS),
  '--statement-timeout',
  String(MAX_SECONDS),
  '--lock-timeout',
  String(MAX_SECONDS),
];

test('the bound is the largest whole number of seconds that fits 2^31-1 ms', () => {
  assert.is(MAX_SECONDS, 2147483);
  assert.ok(MAX_SECONDS * 1000 <= 2 ** 31 - 1 && (MAX_SECONDS + 1) * 1000 > 2 ** 31 - 1);
});

for (const env of [sqliteEnv, postgresEnv, mysqlEnv]) {
  test(`${env.dialect}: every duration flag at its maximum is accepted by Node and the server`, async () => {
    if (!env.available()) return console.log(`SKIP: ${env.dialect} not reachable`);
    const db = await env.create();
    try {
      const r = await runCli(['sync', '44', '--url', db.url, ...MAX]);
      assert.is(r.code, 0, r.stderr);
      assert.not.match(r.stderr, /TimeoutOverflowWarning|internal error/);
      const one = await runCli(['sync', '--url', db.url, '--statement-timeout', String(MAX_SECONDS + 1)]);
      assert.is(one.code, 2, one.stderr);
      const v = await runCli(['version', '--url', db.url]);
      assert.is(v.stdout.trim(), '44', 'the refused run changed nothing');
    } finally {
      await db.drop();
    }
  });
}

test('an empty GLANCE_DB_URL counts as unset (as libpq treats PG* variables); --url "" is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-bounds-'));
  try {
    // Unset, not "empty": the next source is asked, and here there is none (no glance-db.yaml, no Glance config).
    // A real process; the other runs here are in process (test/run-cli-sqlite.test.ts).
    const r = cli(['version'], { cwd: dir, env: { GLANCE_DB_URL: '' } });
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, 'No database named');
    assert.not.match(r.stderr, 'GLANCE_DB_URL is empty');
    // The tests' empty GLANCE_DB_GLANCE_CONFIG_DIRS: the message says there was no folder, never "(looked for )".
    assert.match(r.stderr, 'no folder to look in: GLANCE_DB_GLANCE_CONFIG_DIRS is set and empty');
    assert.not.match(r.stderr, '(looked for )');
    const u = await runCli(['version', '--url', ''], { cwd: dir, env: { GLANCE_DB_URL: 'sqlite:other.sqlite' } });
    assert.is(u.code, 2, u.stderr);
    assert.match(u.stderr, '--url is empty');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
