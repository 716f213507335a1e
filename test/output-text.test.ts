// Text output (issue 32): control characters the database holds are shown
// escaped, never sent raw to a terminal (--json keeps the exact value); a
// reader that goes away (| head, grep -q) ends nothing; and the hint for "No
// database named" suggests something that works.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cleanEnv, cli, LATEST } from './helpers.js';

/** Raw control characters a terminal acts on (line breaks and tabs of the layout aside). */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const sqlite3 = (db: string, sql: string) => {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
};

function withDir(name: string, fn: (dir: string) => Promise<void> | void) {
  test(name, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-text-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

withDir("no database named, and Glance's config sets no connection: the hint names what works, not that file again", (dir) => {
  const etc = join(dir, 'etc-glance');
  spawnSync('mkdir', ['-p', etc]);
  const conf = join(etc, 'glance-api.conf');
  writeFileSync(conf, '[DEFAULT]\ndebug = true\n');
  const env = { GLANCE_DB_GLANCE_CONFIG_DIRS: etc };
  const r = cli(['version'], { cwd: dir, env });
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, `error: No database named: Glance's config (${conf}) sets no [database] connection`);
  const hint = /^hint: (.*)$/m.exec(r.stderr)![1];
  assert.not.match(hint, /--glance-config \S+glance-api\.conf/, `the hint suggests a config file that sets no connection: ${hint}`);
  assert.match(hint, `Set [database] connection in ${conf}`);
  // Doing what it says works.
  appendFileSync(conf, `[database]\nconnection = sqlite:////${join(dir, 'glance.sqlite').replace(/^\//, '')}\n`);
  const done = cli(['sync', '44'], { cwd: dir, env });
  assert.is(done.code, 0, done.stderr);
  assert.ok(existsSync(join(dir, 'glance.sqlite')));
  // With no Glance config at all: no path of a file that is not there.
  const none = cli(['version'], { cwd: dir, env: { GLANCE_DB_GLANCE_CONFIG_DIRS: join(dir, 'missing') } });
  assert.is(none.code, 3);
  assert.not.match(none.stderr, '--glance-config /etc/glance/glance-api.conf');
  assert.match(none.stderr, /hint: Name the database: --url /);
});

test.run();
