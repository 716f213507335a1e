// glance-manage's command lines run as written against a real database:
// db_sync with Glance's default config files, --config-file/--config-dir
// before the command, OS_DATABASE__CONNECTION; each run twice (the second a
// no-op), and each must reach the database the line names, not another.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, LATEST, runCli } from './helpers.js';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { FIXTURES } from './metadefs.js';

/** The URL as Glance's config writes it: SQLAlchemy's driver forms for the servers. */
export const glanceForm = (url: string) =>
  url
    .replace(/^mysql:/, 'mysql+pymysql:')
    .replace(/^postgresql:/, 'postgresql+psycopg2:')
    .replace(/^sqlite:(?!\/\/)/, 'sqlite:///');

export const versionOf = async (db: TestDb) =>
  Number((await db.rows('SELECT max(version) AS v FROM glance_db_version'))[0].v);

/** A folder standing for /etc/glance (no machine's own config is ever read: GLANCE_DB_GLANCE_CONFIG_DIRS). */
export function etcGlance(): { dir: string; etc: string; env: Record<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-oslo-'));
  const etc = join(dir, 'etc-glance');
  mkdirSync(etc);
  return {
    dir,
    etc,
    env: { GLANCE_DB_GLANCE_CONFIG_DIRS: etc },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const conf = (url: string) =>
  `[DEFAULT]\ndebug = false\n\n[database]\nconnection = ${glanceForm(url)}\nmax_retries = -1\n`;

/** Runs the line twice: the first reaches LATEST, the second changes nothing. */
async function twice(args: string[], opts: { cwd: string; env: Record<string, string> }, where: RegExp) {
  const first = await runCli(args, opts);
  assert.is(first.code, 0, `${args.join(' ')}: ${first.stderr}`);
  assert.match(first.stdout, where);
  assert.match(first.stdout, `database is at version ${LATEST}`);
  const second = await runCli(args, opts);
  assert.is(second.code, 0, `${args.join(' ')} (again): ${second.stderr}`);
  assert.match(second.stdout, `already at version ${LATEST}; nothing to do`);
  return { first, second };
}

export function osloCommandLines(env: DialectEnv) {
  const s = suite(`glance-manage command lines: ${env.dialect}`);

  s("glance-db db_sync with Glance's default glance-api.conf, twice; then db_version", async () => {
    if (!env.available()) return;
    await withDb(env, async (db) => {
      const e = etcGlance();
      try {
        writeFileSync(join(e.etc, 'glance-api.conf'), conf(db.url));
        await twice(['db_sync'], { cwd: e.dir, env: e.env }, /\(from .*glance-api\.conf\)/);
        assert.is(await versionOf(db), LATEST);
        // A real process: the exit code and stdout are the contract.
        const v = cli(['db_version'], { cwd: e.dir, env: e.env });
        assert.is(v.code, 0, v.stderr);
        assert.is(v.stdout, `${LATEST}\n`);
      } finally {
        e.cleanup();
      }
    });
  });

  s(
    "glance-db --config-file glance-api.conf --config-dir glance.conf.d db_sync: the folder's [database] wins, twice; then db_load_metadefs PATH",
    async () => {
      if (!env.available()) return;
      await withDb(env, async (db) => {
        const e = etcGlance();
        try {
          // openstack-helm's layout: the connection lives in a glance.conf.d snippet; glance-api.conf names another (stale) database.
          writeFileSync(join(e.etc, 'glance-api.conf'), conf(`sqlite:${join(e.dir, 'stale.sqlite')}`));
          mkdirSync(join(e.etc, 'glance.conf.d'));
          writeFileSync(join(e.etc, 'glance.conf.d', '00-base.conf'), '[DEFAULT]\nbind_port = 9292\n');
          writeFileSync(join(e.etc, 'glance.conf.d', 'database.conf'), conf(db.url));
          const args = ['--config-file', join(e.etc, 'glance-api.conf'), '--config-dir', join(e.etc, 'glance.conf.d')];
          await twice([...args, 'db_sync'], { cwd: e.dir, env: {} }, /\(from .*glance\.conf\.d\/database\.conf\)/);
          assert.is(await versionOf(db), LATEST);
          const m = await runCli([...args, 'db_load_metadefs', FIXTURES], { cwd: e.dir, env: {} });
          assert.is(m.code, 0, m.stderr);
          assert.match(m.stdout, /metadefs: 3 added/);
          const again = await runCli([...args, 'db_load_metadefs', FIXTURES], { cwd: e.dir, env: {} });
          assert.is(again.code, 0, again.stderr);
          assert.match(again.stdout, /metadefs: 0 added, 0 updated, 0 unchanged, 3 skipped/);
        } finally {
          e.cleanup();
        }
      });
    },
  );

  s(
    'OS_DATABASE__CONNECTION=... glance-db db_sync / db_version: the environment wins over the config file, with a notice; twice',
    async () => {
      if (!env.available()) return;
      await withDb(env, async (db) => {
        const e = etcGlance();
        try {
          const stale = join(e.dir, 'stale.sqlite');
          writeFileSync(join(e.etc, 'glance-api.conf'), conf(`sqlite:${stale}`));
          const opts = { cwd: e.dir, env: { ...e.env, OS_DATABASE__CONNECTION: glanceForm(db.url) } };
          const { first } = await twice(['db_sync'], opts, /\(from OS_DATABASE__CONNECTION\)/);
          assert.match(
            first.stderr,
            /notice: using .* from OS_DATABASE__CONNECTION, not sqlite:.*stale\.sqlite from .*glance-api\.conf: oslo\.config's environment source overrides its config files/,
          );
          const v = await runCli(['--config-file', join(e.etc, 'glance-api.conf'), 'db_version'], opts);
          assert.is(v.code, 0, v.stderr);
          assert.is(v.stdout, `${LATEST}\n`);
          assert.is(await versionOf(db), LATEST);
          // Nothing was made at the file's database.
          assert.not.ok(existsSync(stale), "the config file's database was never opened");
        } finally {
          e.cleanup();
        }
      });
    },
  );

  return s;
}
