// The air-gapped install: the tarball from `npm run package` installs into
// a fresh prefix with an empty npm cache and the registry pointed at a dead
// loopback port, and the installed glance-db works on SQLite and, where the
// servers run, on PostgreSQL and MySQL. The single executable built beside
// it works alone: copied into an empty folder, run with no PATH (no node,
// no npm) and a fresh HOME, on the same databases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATEST, LATEST_LABEL, LATEST_REVISION, PREVIOUS, ROOT } from './helpers.js';
import { mysqlEnv, postgresEnv } from './dialects.js';
import { closedPort } from './servers.js';

const work = mkdtempSync(join(tmpdir(), 'glance-db-airgap-'));
const sh = (cmd: string, args: string[], cwd = work, env: Record<string, string> = {}) =>
  // The machine's Glance, if any, is not the installed one here (sync goes to the newest): GLANCE_DB_GLANCE_SITE_PACKAGES empty.
  spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GLANCE_DB_GLANCE_SITE_PACKAGES: '', ...env },
    timeout: 300_000,
  });

test('npm run package makes one tarball that installs offline and runs sync, version, plan and lint', async () => {
  try {
    const pack = sh(process.execPath, [join(ROOT, 'scripts/package.mjs'), '--out', work], ROOT);
    assert.is(pack.status, 0, pack.stderr);
    const tarball = /^tarball: (.*)$/m.exec(pack.stdout)![1];
    assert.match(pack.stdout, /^sha256: {2}[0-9a-f]{64}$/m);
    console.log(`  ${pack.stdout.split('\n')[1]}`);
    for (const d of ['prefix', 'cache', 'site']) mkdirSync(join(work, d));
    const install = sh('npm', [
      'install',
      '-g',
      tarball,
      '--offline',
      '--prefix',
      join(work, 'prefix'),
      '--cache',
      join(work, 'cache'),
      '--registry',
      `http://127.0.0.1:${await closedPort()}/`,
      '--no-audit',
      '--no-fund',
    ]);
    assert.is(install.status, 0, install.stderr);
    const bin = join(work, 'prefix', 'bin', 'glance-db');
    // The man page came with it: npm linked it where man looks for PREFIX/bin's pages.
    assert.ok(
      existsSync(join(work, 'prefix', 'share', 'man', 'man1', 'glance-db.1')),
      'man page linked into PREFIX/share/man/man1',
    );
    if (sh('sh', ['-c', 'command -v man']).status === 0) {
      const man = sh('man', ['-w', 'glance-db'], work, { MANPATH: join(work, 'prefix', 'share', 'man') });
      assert.is(man.status, 0, man.stderr);
    }
    const site = join(work, 'site');
    // No manifest here and no database named: refused, nothing created (Glance's default config folders emptied).
    const none = { GLANCE_DB_GLANCE_CONFIG_DIRS: '' };
    const refused = sh(bin, ['sync'], site, none);
    assert.is(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, 'No database named');
    assert.not.ok(existsSync(join(site, 'glance.sqlite')));
    const sync = sh(bin, ['sync', '--url', 'sqlite:glance.sqlite'], site, none);
    assert.is(sync.status, 0, sync.stderr);
    assert.match(sync.stdout, `database is at version ${LATEST}`);
    assert.ok(existsSync(join(site, 'glance.sqlite')));
    assert.is(sh(bin, ['version'], site, { GLANCE_DB_URL: 'sqlite:glance.sqlite' }).stdout, `${LATEST}\n`);
    assert.is(sh(bin, ['lint'], site).status, 0);
    assert.match(
      sh(bin, ['plan', '--dialect', 'mysql', '--from', String(PREVIOUS)], site).stdout,
      `-- Version ${LATEST_LABEL}`,
    );
    for (const env of [postgresEnv, mysqlEnv]) {
      if (!env.available()) continue;
      const db = await env.create();
      try {
        const r = sh(bin, ['sync', '--url', db.url], site);
        assert.is(r.status, 0, r.stderr);
        assert.is(sh(bin, ['version', '--url', db.url], site).stdout, `${LATEST}\n`);
      } finally {
        await db.drop();
      }
    }

    const built = /^executable: (.*)$/m.exec(pack.stdout)![1];
    assert.match(built, /glance-db-linux-x64$|glance-db-[a-z0-9]+-[a-z0-9]+$/);
    for (const d of ['alone', 'home', 'site2']) mkdirSync(join(work, d));
    const exe = join(work, 'alone', 'glance-db');
    copyFileSync(built, exe);
    const home = join(work, 'home');
    // No manifest in the folder and no Glance config: the database is named by GLANCE_DB_URL, as an operator would.
    const bare = {
      PATH: '/nonexistent',
      HOME: home,
      XDG_CACHE_HOME: '',
      GLANCE_DB_GLANCE_CONFIG_DIRS: '',
      GLANCE_DB_GLANCE_SITE_PACKAGES: '',
      GLANCE_DB_URL: 'sqlite:glance.sqlite',
    };
    const run = (args: string[]) =>
      spawnSync(exe, args, { cwd: join(work, 'site2'), encoding: 'utf8', env: bare, timeout: 120_000 });
    const unnamed = spawnSync(exe, ['sync'], {
      cwd: join(work, 'site2'),
      encoding: 'utf8',
      env: { ...bare, GLANCE_DB_URL: '' },
      timeout: 120_000,
    });
    assert.is(unnamed.status, 3, unnamed.stderr);
    assert.match(unnamed.stderr, 'No database named');
    const first = run(['sync']);
    assert.is(first.status, 0, first.stderr);
    assert.match(first.stdout, '(from GLANCE_DB_URL)');
    assert.match(first.stdout, `database is at version ${LATEST}`);
    // The first run unpacked the SQL, the manifest and the schemas into one private folder under ~/.cache.
    const unpacked = readdirSync(join(home, '.cache'));
    assert.is(unpacked.length, 1, unpacked.join(' '));
    assert.match(unpacked[0], /^glance-db-0\.\d+\.\d+-[0-9a-f]{12}$/);
    assert.is(statSync(join(home, '.cache', unpacked[0])).mode & 0o777, 0o700);
    assert.is(run(['version']).stdout, `${LATEST}\n`);
    // The single executable copied under the name glance-manage answers as glance-manage (issue 27 item 2).
    const manage = join(work, 'alone', 'glance-manage');
    copyFileSync(exe, manage);
    chmodSync(manage, 0o755);
    const asManage = spawnSync(manage, ['db', 'version'], {
      cwd: join(work, 'site2'),
      encoding: 'utf8',
      env: bare,
      timeout: 120_000,
    });
    assert.is(asManage.stdout, `${LATEST_REVISION}\n`, asManage.stderr);
    const manageCheck = spawnSync(manage, ['db', 'check'], {
      cwd: join(work, 'site2'),
      encoding: 'utf8',
      env: bare,
      timeout: 120_000,
    });
    assert.equal(
      [manageCheck.status, manageCheck.stdout],
      [0, 'Database is up to date. No upgrades needed.\n'],
      manageCheck.stderr,
    );
    assert.is(readdirSync(join(home, '.cache')).length, 1);
    assert.is(run(['lint']).status, 0);
    assert.is(run(['verify']).status, 0);
    // A folder of that name that others can write to is not trusted: the next place is used, the folder left alone.
    const home2 = join(work, 'home2');
    const planted = join(home2, '.cache', unpacked[0]);
    mkdirSync(join(planted, 'sql'), { recursive: true });
    writeFileSync(join(planted, '.complete'), '');
    chmodSync(planted, 0o777);
    const tmp2 = join(work, 'tmp2');
    mkdirSync(tmp2);
    const other = spawnSync(exe, ['version'], {
      cwd: join(work, 'site2'),
      encoding: 'utf8',
      env: {
        PATH: '/nonexistent',
        HOME: home2,
        TMPDIR: tmp2,
        GLANCE_DB_GLANCE_CONFIG_DIRS: '',
        GLANCE_DB_URL: 'sqlite:glance.sqlite',
      },
      timeout: 120_000,
    });
    assert.is(other.stdout, `${LATEST}\n`, other.stderr);
    assert.equal(readdirSync(planted).sort(), ['.complete', 'sql']);
    assert.equal(readdirSync(tmp2), [unpacked[0]]);
    assert.is(statSync(join(tmp2, unpacked[0])).mode & 0o777, 0o700);
    assert.match(
      run(['plan', '--dialect', 'postgresql', '--from', String(PREVIOUS)]).stdout,
      `-- Version ${LATEST_LABEL}`,
    );
    assert.match(run(['--version']).stdout, /^glance-db\/\d+\.\d+\.\d+ /);
    // A reader that went away before anything was written (| head, grep -q): exit 0, nothing on stderr
    // (before: "error: unexpected: write EPIPE", exit 1; oclif's EPIPE listener did not survive the start-up snapshot).
    const gone = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(exe, ['versions'], {
        cwd: join(work, 'site2'),
        env: bare,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal([gone.code, gone.stderr], [0, '']);
    const bad = run(['version', '--url', 'sqlite:/nonexistent/dir/x.sqlite']);
    assert.is(bad.status, 3, bad.stderr);
    // --url over GLANCE_DB_URL: a notice says which won (issue 27 item 3), then the error paragraph.
    assert.match(bad.stderr, /^notice: using \S+ from --url, not \S+ from GLANCE_DB_URL[^\n]*\nerror: /);
    for (const env of [postgresEnv, mysqlEnv]) {
      if (!env.available()) continue;
      const db = await env.create();
      try {
        const r = run(['sync', '--url', db.url]);
        assert.is(r.status, 0, r.stderr);
        assert.is(run(['version', '--url', db.url]).stdout, `${LATEST}\n`);
      } finally {
        await db.drop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
