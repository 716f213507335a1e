// plan, check, verify, --backup and --glance-config against a real
// database, the same on every dialect.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { cli, makeProject, removeProject } from './helpers.js';

export function operate(env: DialectEnv): void {
  const s = suite(`plan, check, verify, backup: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const run = (db: TestDb, args: string[], cwd?: string) => cli([...args, '--url', db.url], cwd ? { cwd } : {});

  s(
    'plan from the database level lists exactly what sync runs; the --output script applied by hand is seen as applied',
    () =>
      withDb(env, async (db) => {
        assert.is(run(db, ['sync', '45']).code, 0);
        const p = run(db, ['plan']);
        assert.is(p.code, 0, p.stderr);
        assert.match(p.stdout, `-- glance-db plan (${env.dialect}): from 45 to version 51; 6 version(s)`);
        assert.match(
          p.stdout,
          new RegExp(
            `-- Version 46 drop_artifacts_tables: sql/${env.dialect}/046_drop_artifacts_tables\\.sql sha256-lf:[0-9a-f]{64}`,
          ),
        );
        assert.not.match(p.stdout, '-- Version 45');
        assert.match(p.stdout, "INSERT INTO alembic_version (version_num) VALUES ('2024_1_contract01');");
        const dir = mkdtempSync(join(tmpdir(), 'glance-db-plan-'));
        try {
          const out = join(dir, 'upgrade.sql');
          assert.is(run(db, ['plan', '--output', out]).code, 0);
          const ran = db.runScript(out);
          assert.is(ran.code, 0, ran.stderr);
          assert.is(run(db, ['version']).stdout, '51\n');
          assert.is(run(db, ['verify']).code, 0);
          assert.is(run(db, ['check']).stdout, 'current: at version 51\n');
          assert.match(run(db, ['sync']).stdout, 'already at version 51');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  s('check: one line and a distinct exit code per state', () =>
    withDb(env, async (db) => {
      const notUnder = run(db, ['check']);
      assert.equal([notUnder.code, notUnder.stdout.split('\n').length], [5, 2]);
      assert.match(notUnder.stdout, /^not under version control/);
      assert.is(run(db, ['sync', '47']).code, 0);
      assert.equal(
        [run(db, ['check']).code, run(db, ['check']).stdout],
        [13, 'upgrade pending: at version 47, 51 is available\n'],
      );
      const j = JSON.parse(run(db, ['check', '--json']).stdout);
      assert.equal([j.state, j.exitCode, j.current, j.latest], ['upgrade-pending', 13, 47, 51]);
      assert.is(run(db, ['sync']).code, 0);
      assert.is(run(db, ['check']).code, 0);
      const dir = makeProject();
      try {
        writeFileSync(
          join(dir, `sql/${env.dialect}/047_add_os_hidden.sql`),
          `${readFileSync(join(dir, `sql/${env.dialect}/047_add_os_hidden.sql`), 'utf8')}-- edited\n`,
        );
        const drift = run(db, ['check'], dir);
        assert.is(drift.code, 4, drift.stdout + drift.stderr);
        assert.match(drift.stdout, /^checksum-drift: Checksum mismatch for version 47/);
      } finally {
        removeProject(dir);
      }
      await db.exec('CREATE INDEX handmade_idx ON images (owner, status)');
      const schema = run(db, ['check']);
      assert.equal(
        [schema.code, schema.stdout],
        [12, `schema drift at version 51: 1 difference(s); glance-db verify --url ${db.url} lists them\n`],
      );
    }),
  );

  s('verify lists each difference and exits 12; 0 when the schema matches', () =>
    withDb(env, async (db) => {
      assert.is(run(db, ['sync']).code, 0);
      assert.equal([run(db, ['verify']).code, run(db, ['verify']).stdout], [0, 'schema matches version 51\n']);
      await db.exec('CREATE INDEX handmade_idx ON images (owner, status)');
      await db.exec('DROP INDEX ix_tasks_image_id' + (env.dialect === 'mysql' ? ' ON tasks' : ''));
      const v = run(db, ['verify']);
      assert.is(v.code, 12);
      assert.match(v.stdout, 'schema drift at version 51: 2 difference(s)');
      assert.match(v.stdout, 'images: unexpected index handmade_idx(owner, status)');
      assert.match(v.stdout, 'tasks: missing index ix_tasks_image_id(image_id)');
      assert.equal(JSON.parse(run(db, ['verify', '--json']).stdout).differences.length, 2);
    }),
  );

  s('--backup takes a backup before changing anything; downgrade names it', () =>
    withDb(env, async (db) => {
      const dir = mkdtempSync(join(tmpdir(), 'glance-db-backup-'));
      try {
        assert.is(run(db, ['sync', '45']).code, 0);
        const r = run(db, ['sync', '--backup', '--backup-dir', dir, '--json']);
        assert.is(r.code, 0, r.stderr);
        const backup = JSON.parse(r.stdout).backup as string;
        assert.ok(backup && existsSync(backup), r.stdout);
        assert.match(backup, /-v45-\d{8}T\d{6}Z\.(sqlite|dump|sql)$/);
        const content = readFileSync(backup);
        if (env.dialect === 'sqlite') assert.is(content.subarray(0, 15).toString(), 'SQLite format 3');
        else if (env.dialect === 'postgresql') assert.is(content.subarray(0, 5).toString(), 'PGDMP');
        else assert.match(content.toString(), 'CREATE TABLE `images`');
        assert.equal(readdirSync(dir).length, 1);
        const skipped = run(db, ['sync', '--backup', '--backup-dir', dir]);
        assert.match(skipped.stdout, 'backup: skipped, already at version 51');
        const down = run(db, ['downgrade', '--backup-dir', dir]);
        assert.is(down.code, 6);
        assert.match(down.stdout, backup);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  s("--glance-config reads [database] connection from Glance's own config", () =>
    withDb(env, async (db) => {
      const dir = mkdtempSync(join(tmpdir(), 'glance-db-conf-'));
      try {
        const oslo = db.url.replace(/^postgresql:/, 'postgresql+psycopg2:').replace(/^mysql:/, 'mysql+pymysql:');
        writeFileSync(
          join(dir, 'glance-api.conf'),
          `[DEFAULT]\ndebug = false\n\n[database]\n# the catalogue\nconnection = ${oslo}${env.dialect === 'mysql' ? '?charset=utf8' : ''}\nmax_retries = -1\n`,
        );
        const r = cli(['sync', '46', '--glance-config', join(dir, 'glance-api.conf')], { cwd: dir });
        assert.is(r.code, 0, r.stderr);
        assert.match(r.stdout, `(from ${join(dir, 'glance-api.conf')})`);
        assert.is(run(db, ['version']).stdout, '46\n');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  s.run();
}
