// The Node.js lines package.json's engines accepts (>=22.13) run glance-db,
// and an older one is refused with a clear message (exit 3), not a crash.
// CI (.ci/run) installs Node 22 and Node 20 from the npm registry beside the
// Node 24 it builds on and sets GLANCE_DB_TEST_NODE22 / GLANCE_DB_TEST_NODE20
// with GLANCE_DB_REQUIRE_RUNTIMES=1: then a missing runtime fails this file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT, LATEST, cleanEnv } from './helpers.js';

const required = process.env.GLANCE_DB_REQUIRE_RUNTIMES === '1';

function runtime(variable: string): string | null {
  const path = process.env[variable];
  if (path && existsSync(path)) return path;
  if (required)
    throw new Error(
      `${variable} must name a node binary (GLANCE_DB_REQUIRE_RUNTIMES=1), not ${JSON.stringify(path ?? '')}`,
    );
  console.log(`\n*** SKIP: ${variable} is not set: that Node line is not tried ***\n`);
  return null;
}

const run = (node: string, args: string[], cwd: string) => {
  const r = spawnSync(node, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...cleanEnv(), NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const node22 = runtime('GLANCE_DB_TEST_NODE22');
const node20 = runtime('GLANCE_DB_TEST_NODE20');

test('engines names the oldest line this file tries', () => {
  assert.is(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node, '>=22.13');
});

if (node22) {
  test('Node 22: sync on embedded SQLite reaches the newest version, runs again as a no-op, and version reads it', () => {
    const v = spawnSync(node22, ['-v'], { encoding: 'utf8' }).stdout.trim();
    assert.match(v, /^v22\./);
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-node22-'));
    try {
      const url = `sqlite:///${join(dir, 'glance.sqlite')}`;
      const first = run(node22, ['sync', '--url', url], dir);
      assert.is(first.code, 0, first.stderr);
      assert.match(first.stdout, `database is at version ${LATEST}`);
      const again = run(node22, ['sync', '--url', url], dir);
      assert.is(again.code, 0, again.stderr);
      assert.match(again.stdout, 'nothing to do');
      const version = run(node22, ['version', '--url', url], dir);
      assert.is(version.stdout, `${LATEST}\n`);
      assert.is(run(node22, ['check', '--url', url], dir).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

if (node20) {
  test('Node 20 (past its end of life, below engines): refused with exit 3 and one paragraph, nothing created', () => {
    const v = spawnSync(node20, ['-v'], { encoding: 'utf8' }).stdout.trim();
    assert.match(v, /^v20\./);
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-node20-'));
    try {
      const r = run(node20, ['sync', '--url', `sqlite:///${join(dir, 'glance.sqlite')}`], dir);
      assert.is(r.code, 3);
      assert.match(r.stderr, /^error: glance-db needs Node\.js 22\.13 or newer \(24 LTS recommended\); this is v20\./);
      assert.not.match(r.stderr, /\n\s+at /);
      assert.is(r.stdout, '');
      assert.not.ok(existsSync(join(dir, 'glance.sqlite')), 'no database file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
