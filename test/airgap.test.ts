// The air-gapped install: the tarball from `npm run package` installs into
// a fresh prefix with an empty npm cache and the registry pointed at a dead
// loopback port, and the installed glance-db works on SQLite and, where the
// servers run, on PostgreSQL and MySQL.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { mysqlEnv, postgresEnv } from './dialects.js';

const work = mkdtempSync(join(tmpdir(), 'glance-db-airgap-'));
const sh = (cmd: string, args: string[], cwd = work, env: Record<string, string> = {}) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

test('npm run package makes one tarball that installs offline and runs sync, version, plan and lint', async () => {
  try {
    const pack = sh(process.execPath, [join(ROOT, 'scripts/package.mjs'), '--out', work], ROOT);
    assert.is(pack.status, 0, pack.stderr);
    const tarball = /^tarball: (.*)$/m.exec(pack.stdout)![1];
    assert.match(pack.stdout, /^sha256: {2}[0-9a-f]{64}$/m);
    console.log(`  ${pack.stdout.split('\n')[1]}`);
    for (const d of ['prefix', 'cache', 'site']) mkdirSync(join(work, d));
    const install = sh('npm', ['install', '-g', tarball, '--offline', '--prefix', join(work, 'prefix'), '--cache', join(work, 'cache'), '--registry', 'http://127.0.0.1:9/', '--no-audit', '--no-fund']);
    assert.is(install.status, 0, install.stderr);
    const bin = join(work, 'prefix', 'bin', 'glance-db');
    const site = join(work, 'site');
    // No manifest here and no database named: refused, nothing created (Glance's default config folders emptied).
    const none = { GLANCE_DB_GLANCE_CONFIG_DIRS: '' };
    const refused = sh(bin, ['sync'], site, none);
    assert.is(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, 'No database named');
    assert.not.ok(existsSync(join(site, 'glance.sqlite')));
    const sync = sh(bin, ['sync', '--url', 'sqlite:glance.sqlite'], site, none);
    assert.is(sync.status, 0, sync.stderr);
    assert.match(sync.stdout, 'database is at version 51');
    assert.ok(existsSync(join(site, 'glance.sqlite')));
    assert.is(sh(bin, ['version'], site, { GLANCE_DB_URL: 'sqlite:glance.sqlite' }).stdout, '51\n');
    assert.is(sh(bin, ['lint'], site).status, 0);
    assert.match(sh(bin, ['plan', '--dialect', 'mysql', '--from', '50'], site).stdout, '-- Version 51 add_cache_tables');
    for (const env of [postgresEnv, mysqlEnv]) {
      if (!env.available()) continue;
      const db = await env.create();
      try {
        const r = sh(bin, ['sync', '--url', db.url], site);
        assert.is(r.status, 0, r.stderr);
        assert.is(sh(bin, ['version', '--url', db.url], site).stdout, '51\n');
      } finally {
        await db.drop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
