// Hand-back by phases (issue 28 items 3 and 5): glance-db's phase commands
// continuing the rolling upgrade the real glance-manage began with its
// `db expand` (from 44 to zed's 50), and glance-manage finishing what
// glance-db's phases left. Each run ends with both tools agreeing (as
// test/handback.ts's agree), the schema Glance's, no image's visibility
// lost; on the way every command answers the same next step, and a command
// that says "Nothing was changed" recorded nothing.
//
// glance-manage's rolling commands (expand, migrate, contract, check)
// refuse PostgreSQL: there the matrix is covered by test/handback.ts (its
// db sync / db upgrade cases) and these suites only run on MariaDB and
// SQLite.
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { matchVariant } from '../src/glance/variants.js';
import { EXPECTED_VISIBILITY, POPULATE_V44 } from './conformance.js';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { dropStates, GLANCE_MANAGE, glanceManage, startFrom, alembic, visibility } from './glance-manage.js';
import { cli, runCli, type CliResult } from './helpers.js';

const IGNORE = { ignoreTables: ['alembic_version', 'migrate_version', 'glance_db_version', 'glance_db_version_lock'] };
const ZED = 50;

export function handbackPhases(env: DialectEnv): void {
  const s = suite(`hand-back by phases with glance-manage: ${env.dialect}`);
  // Without glance-manage, test/handback.ts says so (and fails under GLANCE_DB_REQUIRE_GLANCE=1).
  if (!existsSync(GLANCE_MANAGE) || !env.available() || env.dialect === 'postgresql') {
    s.run();
    return;
  }
  const { expectGdb, expectGm, alembic, versionRows, visibility, agree } = phaseTools(env);

  /** After glance-manage's expand: every command names glance-db migrate next, and expand/contract change nothing. */
  const migrateIsNext = async (db: TestDb, recorded: number[]) => {
    expectGm(db, ['db', 'check'], 5, 'glance-manage db contract');
    await expectGdb(db, ['db', 'check'], 4, /next step is to run glance-db migrate.*its data migrations have not run/);
    await expectGdb(db, ['check'], recorded.length ? 13 : 5, /next glance-db migrate .*records that expand/);
    await expectGdb(db, ['verify'], 0, /schema matches version 50 as the rolling upgrade under way leaves it/);
    if (!recorded.length)
      await expectGdb(db, ['history'], 0, /its own rolling upgrade expanded to 50: glance-db migrate continues it/);
    for (const phase of ['expand', 'contract']) {
      await expectGdb(
        db,
        [phase],
        35,
        /glance-manage's own rolling upgrade expanded .* to version 50.*Nothing was changed/s,
      );
      assert.equal(await alembic(db), ['wallaby_expand01'], `${phase}: alembic_version untouched`);
      assert.equal(await versionRows(db), recorded, `${phase} said nothing was changed, and recorded nothing`);
    }
    assert.ok(
      Object.values(await visibility(db)).every((v) => v === null),
      'glance-manage migrated no visibility',
    );
  };

  /** glance-db migrate continues it: glance-manage's expand recorded (not replayed), glance-db's data migrations run. */
  const continueWithMigrate = async (db: TestDb) => {
    await expectGdb(
      db,
      ['migrate'],
      0,
      /recorded: alembic_version: wallaby_expand01: glance-manage ran the expand phase up to version 50; versions 45-50 recorded as expanded by it \(nothing run\)/,
    );
    assert.equal(await visibility(db), EXPECTED_VISIBILITY);
    assert.equal(await alembic(db), ['wallaby_expand01']);
    const h = JSON.parse((await expectGdb(db, ['history', '--json'], 0)).stdout) as {
      versions: { version: number; kind: string; note: string | null }[];
    };
    for (const v of [45, 46, 47, 48, 49, 50])
      assert.match(String(h.versions.find((x) => x.version === v)?.note), '"expandedBy":"glance-manage"');
    // Both tools now say contract next.
    expectGm(db, ['db', 'check'], 5, 'glance-manage db contract');
    await expectGdb(db, ['db', 'check'], 5, 'glance-db contract');
    await expectGdb(db, ['check'], 13, /45 migrated.*next: glance-db contract/);
    await expectGdb(db, ['verify'], 0);
    // Run again: nothing left to migrate, nothing recorded again.
    await expectGdb(db, ['migrate'], 0);
    assert.equal(await versionRows(db), [42, 43, 44, 45, 46, 47, 48, 49, 50]);
  };

  s('glance-manage built it and ran db expand; glance-db migrate then contract continue it, both agree', () =>
    withDb(env, async (db) => {
      await startFrom(env, 'mitaka02-populated-expand', db);
      await migrateIsNext(db, []);
      await continueWithMigrate(db);
      // SQLite: glance-manage's expand made no visibility triggers; 45's contract is computed from the live schema.
      await expectGdb(db, ['contract'], 0, 'database is at version 50');
      await agree(db, 'glance-db continuing glance-manage expand by phases');
      await expectGdb(db, ['contract'], 35, 'No rolling upgrade is under way', true);
      await expectGdb(db, ['sync', 'zed'], 0, 'nothing to do');
    }),
  );

  s(
    'glance-db sync 44, glance-manage db expand, glance-db migrate, then glance-manage db contract: glance-db records it, both agree',
    () =>
      withDb(env, async (db) => {
        await expectGdb(db, ['sync', '44'], 0);
        await db.exec(POPULATE_V44);
        expectGm(db, ['db', 'expand'], 0);
        await migrateIsNext(db, [42, 43, 44]);
        await continueWithMigrate(db);
        expectGm(db, ['db', 'contract'], 0);
        await expectGdb(db, ['version'], 0, /^50\n/);
        await expectGdb(db, ['contract'], 0, /glance-manage finished the rolling upgrade glance-db began/);
        await agree(db, 'glance-manage contracting after glance-db migrate');
      }),
  );

  s('glance-manage db expand, glance-db migrate, then glance-db sync finishes the contract, both agree', () =>
    withDb(env, async (db) => {
      await startFrom(env, 'mitaka02-populated-expand', db);
      await continueWithMigrate(db);
      await expectGdb(db, ['sync', 'zed'], 0);
      await agree(db, 'glance-db sync after migrate continued glance-manage expand');
    }),
  );

  s.after(dropStates);
  s.run();
}

/**
 * The two tools run on a test database, and what both must agree on at the end. glance-db in process (runCli):
 * what these tests are about is each command's answer; `real` runs it as a process, whose exit code and stderr
 * are the contract. expectGdbProcess: always a process (a file that sets glance-db's test hooks by environment).
 */
export function phaseTools(env: DialectEnv) {
  const expectGdb = async (db: TestDb, args: string[], code: number, pattern?: string | RegExp, real = false) => {
    const r = real ? cli([...args, '--url', db.url]) : await runCli([...args, '--url', db.url]);
    assert.is(r.code, code, `glance-db ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    if (pattern) assert.match(r.stdout + r.stderr, pattern);
    return r;
  };
  const expectGdbProcess = (
    db: TestDb,
    args: string[],
    code: number,
    pattern?: string | RegExp,
    hooks: Record<string, string> = {},
  ) => {
    const r = cli([...args, '--url', db.url], { env: hooks });
    assert.is(r.code, code, `glance-db ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    if (pattern) assert.match(r.stdout + r.stderr, pattern);
    return r;
  };
  const expectGm = (db: TestDb, args: string[], code: number, pattern?: string | RegExp): CliResult => {
    const r = glanceManage(db.url, args);
    assert.is(r.code, code, `glance-manage ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    if (pattern) assert.match(r.stdout + r.stderr, pattern);
    return r;
  };
  const versionRows = async (db: TestDb) =>
    (await db.rows('SELECT version FROM glance_db_version').catch(() => [])).map((r) => Number(r.version));
  // Glance's schema at zed, loaded once for the whole file.
  let zedReference: Promise<SchemaModel> | null = null;
  /** Both tools at zed's version, the schema Glance's, no visibility lost. */
  const agree = async (db: TestDb, how: string) => {
    expectGm(db, ['db', 'check'], 0, 'Database is up to date');
    assert.equal(await alembic(db), ['wallaby_contract01'], how);
    await expectGdb(db, ['version'], 0, new RegExp(`^${ZED}\\n`));
    await expectGdb(db, ['check', 'zed'], 0, `current: at version ${ZED}`);
    await expectGdb(db, ['db', 'check', 'zed'], 0, 'up to date');
    await expectGdb(db, ['verify'], 0, `schema matches version ${ZED}`);
    zedReference ??= withDb(env, async (r) => (await r.loadReference(ZED), r.model()));
    const diff = diffSchemas(await zedReference, await db.model(), IGNORE);
    assert.ok(diff.length === 0 || matchVariant(env.dialect, diff) !== null, `${how}: ${diff.join('; ')}`);
    assert.equal(await visibility(db), EXPECTED_VISIBILITY, how);
  };

  return { expectGdb, expectGdbProcess, expectGm, alembic, versionRows, visibility, agree };
}
