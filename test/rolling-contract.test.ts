// Issue 32, item 1: `contract` re-shared images. After expand and migrate, a
// new-release glance-api sets an image with members to `private`; the old
// contract file turned it back into `shared` (its first statement), so the
// members regained access. Now contract follows Glance's: it refuses, with
// the count and the command that finishes them, while a row still needs the
// migrate phase (45: visibility NULL; 49: a "backend" key left), migrate
// finishes them, and contract never rewrites a value the new release wrote
// (it reports how many private images have live members). The contract file
// is a released file: its fix is recorded in sql/checksums.lock as
// superseding the old checksum, so a database that already ran the old one
// stays valid (history says so).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksumOf } from '../src/platform/checksum.js';
import { splitStatements } from '../src/core/sql/split.js';
import { mysqlEnv, postgresEnv, sqliteEnv, withDb, type DialectEnv, type TestDb } from './dialects.js';
import { cli, LATEST, makeProject, removeProject, ROOT, runCli } from './helpers.js';

const TS = "'2020-01-01 00:00:00'";
const CONTRACT = (d: string) => `sql/${d}/045_add_visibility.contract.sql`;
const OLD_CONTRACT = (d: string) => join(ROOT, 'test', 'fixtures', 'superseded', d, '045_add_visibility.contract.sql');

/** At version 44: a private image with a live member (Ocata: shared), a public one, a private one without members, a location with a "backend" key. */
async function populate44(db: TestDb): Promise<void> {
  await db.exec(`INSERT INTO images (id, name, status, is_public, created_at, deleted, min_disk, min_ram, protected) VALUES
    ('img-members', 'a', 'active', '0', ${TS}, '0', 0, 0, '0'), ('img-public', 'b', 'active', '1', ${TS}, '0', 0, 0, '0'), ('img-alone', 'c', 'active', '0', ${TS}, '0', 0, 0, '0')`);
  await db.exec(
    `INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status) VALUES ('img-members', 'tenant-1', '0', ${TS}, '0', 'accepted')`,
  );
  await db.exec(
    `INSERT INTO image_locations (image_id, value, created_at, deleted, meta_data, status) VALUES ('img-public', 'file:///b', ${TS}, '0', '{"backend": "fast"}', 'active')`,
  );
}

const visibility = async (db: TestDb) =>
  Object.fromEntries(
    (await db.rows('SELECT id, visibility FROM images ORDER BY id')).map((r) => [
      String(r.id),
      r.visibility === null ? null : String(r.visibility),
    ]),
  );
const statuses = async (db: TestDb) =>
  (await db.rows('SELECT version, status, phases FROM glance_db_version ORDER BY version')).map(
    (r) => `${r.version}:${r.status}:${r.phases}`,
  );

/**
 * A row written without the compatibility triggers (restored by hand, or by
 * a writer the triggers missed): visibility NULL after migrate ran, and a
 * location with a "backend" key.
 */
async function rowsMigrateMissed(db: TestDb, dialect: string): Promise<void> {
  const expand = readFileSync(join(ROOT, 'sql', dialect, '045_add_visibility.expand.sql'), 'utf8');
  const trigger = splitStatements(expand, dialect as never)
    .map((s) => s.text)
    .find((t) => /^CREATE TRIGGER insert_visibility\b/.test(t))!;
  const insert = `INSERT INTO images (id, name, status, is_public, created_at, deleted, min_disk, min_ram, protected) VALUES ('img-restored', 'd', 'active', '0', ${TS}, '0', 0, 0, '0')`;
  await db.exec(
    dialect === 'postgresql' ? 'DROP TRIGGER insert_visibility ON images' : 'DROP TRIGGER insert_visibility',
  );
  await db.exec(insert);
  await db.exec(dialect === 'mysql' ? `DELIMITER //\n${trigger}//\nDELIMITER ;\n` : trigger);
  await db.exec(
    `INSERT INTO image_locations (image_id, value, created_at, deleted, meta_data, status) VALUES ('img-restored', 'file:///d', ${TS}, '0', '{"backend": "slow"}', 'active')`,
  );
}

for (const env of [sqliteEnv, postgresEnv, mysqlEnv] as DialectEnv[]) {
  const d = env.dialect;
  const run = (db: TestDb, args: string[], cwd?: string) => runCli([...args, '--url', db.url], cwd ? { cwd } : {});

  test(`${d}: expand, migrate, then the new release sets an image with live members to private: contract leaves it private and reports it`, async () => {
    if (!env.available()) return console.log(`  SKIP: ${d} not reachable`);
    await withDb(env, async (db) => {
      assert.is((await run(db, ['sync', '44'])).code, 0);
      await populate44(db);
      assert.is((await run(db, ['expand'])).code, 0);
      assert.is((await run(db, ['migrate'])).code, 0);
      assert.equal(await visibility(db), { 'img-alone': 'private', 'img-members': 'shared', 'img-public': 'public' });
      // The new release makes the shared image private (visibility only; the trigger keeps is_public false).
      await db.exec("UPDATE images SET visibility = 'private' WHERE id = 'img-members'");
      const r = await run(db, ['contract', '--json']);
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.equal(
        await visibility(db),
        { 'img-alone': 'private', 'img-members': 'private', 'img-public': 'public' },
        'the members do not regain access',
      );
      const out = JSON.parse(r.stdout);
      assert.is(out.phases.find((p: { version: number }) => p.version === 45).reports.privateImagesWithMembers, 1);
      assert.is(out.current, LATEST);
      assert.is((await run(db, ['verify'])).code, 0);
      // A database mid-rolling-upgrade runs the fixed file, and records its checksum.
      const phases = JSON.parse(
        String((await db.rows('SELECT phases FROM glance_db_version WHERE version = 45'))[0].phases),
      );
      assert.is(phases.contract, checksumOf(readFileSync(join(ROOT, CONTRACT(d)))));
    });
  });

  test(`${d}: contract refuses while rows still need the migrate phase (45's NULL visibility, 49's "backend" key): the count and the migrate command, nothing changed; migrate finishes them, leaving set values; then contract runs`, async () => {
    if (!env.available()) return console.log(`  SKIP: ${d} not reachable`);
    await withDb(env, async (db) => {
      assert.is((await run(db, ['sync', '44'])).code, 0);
      await populate44(db);
      assert.is((await run(db, ['expand'])).code, 0);
      assert.is((await run(db, ['migrate'])).code, 0);
      await db.exec("UPDATE images SET visibility = 'private' WHERE id = 'img-members'");
      await rowsMigrateMissed(db, d);
      const before = { vis: await visibility(db), rows: await statuses(db) };
      assert.is(before.vis['img-restored'], null);

      for (const args of [['contract'], ['contract', '--dry-run']]) {
        const r = await run(db, args);
        assert.is(r.code, 35, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stderr,
          '2 row(s) still need the migrate phase (version 45 add_visibility: 1; version 49 location_backend_to_store: 1)',
        );
        assert.match(r.stderr, `hint: Run glance-db migrate --url ${db.url}`);
      }
      const j = JSON.parse((await run(db, ['contract', '--json'])).stdout);
      assert.equal(
        [j.error.code, j.error.exitCode, j.error.next, j.error.remaining],
        [
          'ROLLING_ORDER',
          35,
          'migrate',
          [
            { version: 45, name: 'add_visibility', rows: 1 },
            { version: 49, name: 'location_backend_to_store', rows: 1 },
          ],
        ],
      );
      assert.equal({ vis: await visibility(db), rows: await statuses(db) }, before, 'nothing changed');
      assert.match((await run(db, ['check'])).stdout, 'contract pending');
      // glance-manage's check says migrate while has_migrations (exit 4), and a plan script cannot run phases at all.
      const dbCheck = await run(db, ['db', 'check']);
      assert.is(dbCheck.code, 4, dbCheck.stdout);
      assert.match(dbCheck.stdout, `Your next step is to run glance-db migrate --url ${db.url}`);
      const script = await run(db, ['plan', '--output', join(tmpdir(), `hrules-never-${process.pid}.sql`)]);
      assert.is(script.code, 2, script.stdout + script.stderr);
      assert.match(
        script.stderr,
        `hint: Finish it with glance-db contract --url ${db.url} (and the phases after it), or glance-db sync --url ${db.url};`,
      );
      assert.not.ok(existsSync(join(tmpdir(), `hrules-never-${process.pid}.sql`)));
      assert.match(
        (await run(db, ['plan'])).stdout,
        /-- migrate 45 add_visibility: [^\n]*\n[^]*-- migrate 49 location_backend_to_store: [^\n]*\n[^]*-- contract 45 add_visibility:/,
      );

      const m = await run(db, ['migrate']);
      assert.is(m.code, 0, m.stdout + m.stderr);
      assert.match(m.stdout, /migrated 45 add_visibility: 1 row\(s\)/);
      assert.match(m.stdout, /migrated 49 location_backend_to_store: 1 row\(s\)/);
      assert.equal(
        await visibility(db),
        { ...before.vis, 'img-restored': 'private' },
        'the left row by the migrate rule; the others as they were',
      );
      assert.equal(await statuses(db), before.rows, 'the version rows stay as they were');
      assert.match((await run(db, ['migrate'])).stdout, 'nothing to migrate');

      const c = await run(db, ['contract']);
      assert.is(c.code, 0, c.stdout + c.stderr);
      assert.match(c.stdout, '45 add_visibility: 1 private image(s) with live members, left private');
      assert.is((await visibility(db))['img-members'], 'private');
      assert.equal(
        (await db.rows("SELECT meta_data FROM image_locations WHERE image_id = 'img-restored'")).map(
          (r) => r.meta_data,
        ),
        ['{"store": "slow"}'],
      );
    });
  });

  test(`${d}: a database that ran the old contract file is still valid (no exit 4), and history says the file was superseded by a fix; the shipped lock records that fix`, async () => {
    if (!env.available()) return console.log(`  SKIP: ${d} not reachable`);
    const old = readFileSync(OLD_CONTRACT(d));
    const lock = readFileSync(join(ROOT, 'sql', 'checksums.lock'), 'utf8');
    const now = checksumOf(readFileSync(join(ROOT, CONTRACT(d))));
    assert.match(lock, `superseded 045 ${d} contract ${checksumOf(old)} by ${now}`);
    // The release before the fix: its contract file.
    const before = makeProject({ [CONTRACT(d)]: old.toString('utf8') });
    try {
      await withDb(env, async (db) => {
        assert.is((await run(db, ['sync', '44'], before)).code, 0);
        await populate44(db);
        for (const phase of ['expand', 'migrate', 'contract'])
          assert.is((await run(db, [phase], before)).code, 0, phase);
        // Now the fixed release.
        for (const args of [['check'], ['verify'], ['version'], ['sync'], ['plan']]) {
          const r = await run(db, args);
          assert.is(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        }
        const h = await run(db, ['history']);
        assert.match(
          h.stdout,
          `version 45 superseded: its contract phase ran ${CONTRACT(d)} as ${checksumOf(old)}, since superseded by a fix (${now}, recorded in sql/checksums.lock)`,
        );
        const row45 = JSON.parse((await run(db, ['history', '--json'])).stdout).versions.find(
          (v: { version: number }) => v.version === 45,
        );
        assert.equal(
          [row45.file, row45.superseded],
          ['superseded', [{ phase: 'contract', file: CONTRACT(d), ran: checksumOf(old), now }]],
        );
      });
      // Without the fix recorded in the lock, the same change is a changed file (exit 4).
      await withDb(env, async (db) => {
        assert.is((await run(db, ['sync', '44'], before)).code, 0);
        for (const phase of ['expand', 'migrate', 'contract'])
          assert.is((await run(db, [phase], before)).code, 0, phase);
        writeFileSync(join(before, CONTRACT(d)), readFileSync(join(ROOT, CONTRACT(d))));
        rmSync(join(before, 'sql', 'checksums.lock'));
        const r = await run(db, ['check'], before);
        assert.is(r.code, 4, r.stdout + r.stderr);
      });
    } finally {
      removeProject(before);
    }
  });
}

test('sqlite: a fresh database, and one synced through the phases (as on Galera), get the fixed contract and end at the newest version', async () => {
  for (const env of [{}, { GLANCE_DB_SYNC_BY_PHASES: '1' }] as Record<string, string>[]) {
    await withDb(sqliteEnv, async (db) => {
      const r = cli(['sync', '--url', db.url], { env });
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.is(cli(['verify', '--url', db.url]).code, 0);
      const phases = (await db.rows('SELECT phases FROM glance_db_version WHERE version = 45'))[0].phases;
      if (env.GLANCE_DB_SYNC_BY_PHASES)
        assert.match(String(phases), checksumOf(readFileSync(join(ROOT, CONTRACT('sqlite')))));
    });
  }
});

test.run();
