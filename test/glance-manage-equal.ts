// The fork server (test/glance-manage-fork.ts) is glance-manage (issue 30):
// the same commands, run through it and as real /usr/bin/glance-manage
// processes on two equal databases, give the same exit codes, the same stdout,
// the same stderr (but for the log lines' time and pid) and the same resulting
// schema and alembic_version. Skipped loudly without glance-manage; with
// GLANCE_DB_REQUIRE_GLANCE=1 that is a failure.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { REAL_GLANCE_MANAGE, runGlanceManage, type How, type Run } from './glance-manage-fork.js';
import { glanceManageReady, sqlalchemyUrl } from './glance-manage.js';

/** oslo.log's line head: time and pid differ between any two runs. */
const masked = (stderr: string) => stderr.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+ /gm, 'TIME PID ');

export function glanceManageEqual(env: DialectEnv): void {
  const s = suite(`the glance-manage fork server is glance-manage: ${env.dialect}`);
  if (!glanceManageReady(s, 'glance-manage fork server', env, REAL_GLANCE_MANAGE)) return;
  const rolling = env.dialect !== 'postgresql';
  // Empty database: not under control; a refusal (contract before expand; on PostgreSQL the rolling expand);
  // sync from empty; version at the head; check (a refusal on PostgreSQL); an argument error.
  const commands = [
    ['db', 'version'],
    rolling ? ['db', 'contract'] : ['db', 'expand'],
    ['db', 'sync'],
    ['db', 'version'],
    ['db', 'check'],
    ['bogus'],
  ];

  s(
    'db version, a refusal, db sync from empty, db check, a bad argument: the same exit code, output and schema both ways',
    () =>
      withDb(env, (a) =>
        withDb(env, async (b) => {
          const dir = mkdtempSync(join(tmpdir(), 'glance-db-gm-equal-'));
          try {
            const run = (db: TestDb, args: string[], how: How): Run => {
              const conf = join(dir, `${how}.conf`);
              writeFileSync(conf, `[DEFAULT]\nuse_stderr = true\n[database]\nconnection = ${sqlalchemyUrl(db.url)}\n`);
              return runGlanceManage(REAL_GLANCE_MANAGE, ['--config-file', conf, ...args], dir, 600_000, how);
            };
            const codes: number[] = [];
            for (const args of commands) {
              const forked = run(a, args, 'fork');
              const real = run(b, args, 'process');
              const what = `glance-manage ${args.join(' ')}`;
              assert.is(forked.code, real.code, `${what}: exit code\n${forked.stderr}\n---\n${real.stderr}`);
              assert.is(forked.stdout, real.stdout, `${what}: stdout`);
              assert.is(masked(forked.stderr), masked(real.stderr), `${what}: stderr`);
              codes.push(real.code);
            }
            assert.is(codes[0], 0);
            assert.ok(codes[1] !== 0, 'the refusal refused');
            assert.is(codes[2], 0, 'db sync');
            assert.is(codes[5], 2, 'argparse refuses a bad command');
            const alembic = async (db: TestDb) =>
              (await db.rows('SELECT version_num FROM alembic_version')).map((r) => String(r.version_num)).sort();
            assert.equal(await alembic(a), await alembic(b));
            assert.equal(await alembic(a), ['wallaby_contract01']);
            assert.equal(diffSchemas(await b.model(), await a.model()), []);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
      ),
  );
  s.run();
}
