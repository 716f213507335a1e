// glance-db started as glance-manage, held against the real glance-manage
// (Debian's glance-common) on the same PostgreSQL and MariaDB databases, with
// the Glance installed on this machine as the default target (issue 27 item 2,
// issue 28 item 2). Skipped loudly without glance-manage or a server;
// GLANCE_DB_REQUIRE_GLANCE=1 (.ci/run installs glance-common) makes a missing
// glance-manage a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { BIN, cleanEnv, ROOT } from './helpers.js';
import { mysqlEnv, postgresEnv } from './dialects.js';
import { dropStates, startFrom } from './glance-manage.js';
import { REAL_GLANCE_MANAGE as GLANCE_MANAGE, runGlanceManage, type Run } from './glance-manage-fork.js';
import {
  createDatabase,
  dropDatabase,
  serverAvailable,
  serverParts,
  serverUrl,
  type ServerDialect,
} from './servers.js';

const required = process.env.GLANCE_DB_REQUIRE_GLANCE === '1';
const root = mkdtempSync(join(tmpdir(), 'gdb-release-glance-'));
const link = join(root, 'bin', 'glance-manage');
mkdirSync(join(root, 'bin'));
symlinkSync(BIN, link);

/** The real glance-manage (through test/glance-manage-fork.ts), with a config file that names the database (its log lines go to stderr). */
function real(conf: string, args: string[]): Run {
  return runGlanceManage(GLANCE_MANAGE, ['--config-file', conf, ...args], root, 300_000);
}

/** The environment glance-db runs in here: this machine's Glance is the installed one. */
function oursEnv(): NodeJS.ProcessEnv {
  const env = cleanEnv();
  delete env.GLANCE_DB_GLANCE_SITE_PACKAGES;
  delete env.GLANCE_DB_GLANCE_RELEASE;
  return env;
}

/** glance-db started through a link named glance-manage (a real process), reading the same config file. */
function oursProcess(conf: string, args: string[]): Run {
  const r = spawnSync(process.execPath, [link, ...args, '--glance-config', conf], {
    cwd: root,
    env: oursEnv(),
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

type InProcessCli = typeof import('../src/cli/run-cli.js').runCli;
const inProcess: Promise<InProcessCli> = import(pathToFileURL(join(ROOT, 'dist', 'bundle', 'run-cli.js')).href).then(
  (m: { runCli: InProcessCli }) => m.runCli,
);

/**
 * The same, in this process (src/cli/run-cli.ts, started as the link: what the name selects is what is tested);
 * each dialect's first run stays a real process.
 */
async function ours(conf: string, args: string[]): Promise<Run> {
  const env = Object.fromEntries(Object.entries(oursEnv()).filter((e): e is [string, string] => e[1] !== undefined));
  return (await inProcess)([...args, '--glance-config', conf], { cwd: root, env, invokedAs: link });
}

/** A database of this helper's and a Glance config whose [database] connection names it, in the drivers Glance uses. */
function database(dialect: ServerDialect): { name: string; conf: string } {
  const { name } = createDatabase(dialect, `gdb_release_${randomBytes(4).toString('hex')}`);
  const p = serverParts(dialect);
  const auth = `${encodeURIComponent(p.user)}${p.password ? `:${encodeURIComponent(p.password)}` : ''}`;
  const url =
    dialect === 'postgresql'
      ? `postgresql+psycopg2://${auth}@${p.host}:${p.port}/${name}`
      : `mysql+pymysql://${auth}@${p.host}:${p.port}/${name}?charset=utf8`;
  const conf = join(root, `${name}.conf`);
  writeFileSync(conf, `[DEFAULT]\nuse_stderr = true\n\n[database]\nconnection = ${url}\n`);
  return { name, conf };
}

const same = (what: string, a: Run, b: Run) => {
  assert.is(
    b.stdout,
    a.stdout,
    `${what}: stdout (glance-manage's stderr: ${a.stderr.slice(-400)}; ours: ${b.stderr.slice(-400)})`,
  );
  assert.is(b.code, a.code, `${what}: exit code`);
};

for (const dialect of ['postgresql', 'mysql'] as ServerDialect[]) {
  test(`${dialect}: as glance-manage, db version, db check and db sync answer as the real glance-manage on the same database`, async () => {
    if (!existsSync(GLANCE_MANAGE)) {
      if (required) assert.unreachable(`${GLANCE_MANAGE} is required (GLANCE_DB_REQUIRE_GLANCE=1) but not installed`);
      console.log(
        `\n*** SKIP: ${dialect}: no ${GLANCE_MANAGE} (apt-get install glance-common python3-glance; GLANCE_DB_REQUIRE_GLANCE=1 makes this a failure) ***\n`,
      );
      return;
    }
    if (!serverAvailable(dialect)) {
      if (required || process.env.GLANCE_DB_REQUIRE_SERVERS) assert.unreachable(`${dialect} required`);
      console.log(`\n*** SKIP: ${dialect} not reachable ***\n`);
      return;
    }
    const a = database(dialect);
    const b = database(dialect);
    try {
      // An empty database: no revision; glance-manage's first step is expand.
      same('db version, empty', real(a.conf, ['db', 'version']), oursProcess(a.conf, ['db', 'version']));
      const check = await ours(a.conf, ['db', 'check']);
      assert.equal(
        [check.code, check.stdout],
        [3, 'Your database is not up to date. Your first step is to run `glance-manage db expand`.\n'],
      );
      if (dialect === 'mysql') same('db check, empty', real(a.conf, ['db', 'check']), check);
      else {
        // Documented difference: glance-manage's check refuses PostgreSQL (its _validate_engine); glance-db answers.
        const r = real(a.conf, ['db', 'check']);
        assert.is(r.code, 1);
        assert.match(r.stderr, 'Rolling upgrades are currently supported only for MySQL and Sqlite');
      }
      // glance-db's db sync with no target stops at the installed Glance's head, and glance-manage finds nothing to do.
      const sync = await ours(a.conf, ['db', 'sync']);
      assert.is(sync.code, 0, sync.stderr);
      assert.match(sync.stderr, /^target: version \d+, the schema of the installed Glance \d+\.\d+/m);
      assert.not.match(sync.stderr, 'warning');
      const version = real(a.conf, ['db', 'version']);
      assert.is(version.code, 0, version.stderr);
      same('db version after glance-db db sync', version, await ours(a.conf, ['db', 'version']));
      const again = real(a.conf, ['db', 'sync']);
      assert.equal(
        [again.code, again.stdout],
        [0, 'Database is up to date. No migrations needed.\n'],
        again.stderr.slice(-600),
      );
      if (dialect === 'mysql')
        same('db check after glance-db db sync', real(a.conf, ['db', 'check']), await ours(a.conf, ['db', 'check']));
      assert.equal((await ours(a.conf, ['db', 'check'])).stdout, 'Database is up to date. No upgrades needed.\n');
      // A database glance-manage built: the same revision, the same check.
      // (glance-manage db sync on an empty database: built once per run, test/glance-manage.ts, and copied here.)
      await startFrom(dialect === 'postgresql' ? postgresEnv : mysqlEnv, 'zed-sync', {
        url: serverUrl(dialect, b.name),
      });
      same(
        'db version of a glance-manage database',
        real(b.conf, ['db', 'version']),
        await ours(b.conf, ['db', 'version']),
      );
      const c = await ours(b.conf, ['db', 'check']);
      assert.equal([c.code, c.stdout], [0, 'Database is up to date. No upgrades needed.\n'], c.stderr);
      if (dialect === 'mysql') same('db check of a glance-manage database', real(b.conf, ['db', 'check']), c);
      // glance-db's own name keeps its own answer.
      const env = cleanEnv();
      delete env.GLANCE_DB_GLANCE_SITE_PACKAGES;
      const own = spawnSync(process.execPath, [BIN, 'db', 'version', '--glance-config', a.conf], {
        cwd: root,
        env,
        encoding: 'utf8',
      });
      assert.match(own.stdout, /^\d+\n$/);
    } finally {
      dropDatabase(dialect, a.name);
      dropDatabase(dialect, b.name);
    }
  });
}

test.after(async () => {
  rmSync(root, { recursive: true, force: true });
  await dropStates();
});
test.run();
