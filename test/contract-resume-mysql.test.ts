// Version 45's contract stopped half way on MySQL (DDL commits as it goes)
// and resumed (issue 28): glance-db resumes a partly applied version by the
// positions and hashes of the statements that ran, so the statements it
// runs the second time must be those of the first, also where 45's contract
// is computed from the live schema (glance/ocata.ts, after glance-manage's
// own expand) rather than read from its file (after glance-db's expand).
// Each case stops the contract after some of its statements, resumes it the
// documented way (fix the cause, then contract or sync again), and ends
// with both tools agreeing (test/handback-phases.ts's agree): the schema
// Glance's, no image's visibility lost.
import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { POPULATE_V44 } from './conformance.js';
import { mysqlEnv, withDb, type TestDb } from './dialects.js';
import { GLANCE_MANAGE } from './glance-manage.js';
import { phaseTools } from './handback-phases.js';
import { cliAsync } from './helpers.js';
import { serverParts } from './servers.js';

const s = suite('45 contract resumed after stopping half way: mysql');
const { expectGdbProcess: expectGdb, expectGm, agree } = phaseTools(mysqlEnv);

/** A foreign key on images.is_public: contract's ALTER (it drops is_public and its index) fails on it, after the triggers went. */
const PLANT_FK =
  'CREATE TABLE site_public_flags (flag TINYINT(1), FOREIGN KEY (flag) REFERENCES images (is_public)) ENGINE=InnoDB';

const row45 = async (db: TestDb) => {
  const [r] = await db.rows(
    'SELECT status, statements_applied, statements_total, error FROM glance_db_version WHERE version = 45',
  );
  return { status: String(r.status), applied: Number(r.statements_applied), error: String(r.error ?? '') };
};
const triggers = async (db: TestDb) =>
  (await db.rows('SELECT trigger_name AS t FROM information_schema.triggers WHERE trigger_schema = DATABASE()')).map(
    (r) => String(r.t),
  );
const hasIsPublic = async (db: TestDb) =>
  (
    await db.rows(
      "SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'images' AND column_name = 'is_public'",
    )
  ).length > 0;

/** Up to the contract: glance-manage's expand continued by glance-db migrate (45's contract computed), or glance-db's own phases (its file). */
function upToContract(db: TestDb, by: 'glance-manage' | 'glance-db'): void {
  if (by === 'glance-manage') {
    expectGm(db, ['db', 'upgrade', '--version', 'mitaka02'], 0);
    return;
  }
  expectGdb(db, ['sync', '44'], 0);
}
async function expanded(db: TestDb, by: 'glance-manage' | 'glance-db'): Promise<void> {
  upToContract(db, by);
  await db.exec(POPULATE_V44);
  if (by === 'glance-manage') expectGm(db, ['db', 'expand'], 0);
  else expectGdb(db, ['expand', '50'], 0);
  expectGdb(db, ['migrate'], 0);
  assert.equal((await triggers(db)).sort(), ['insert_visibility', 'update_visibility']);
}

/** The contract's statements: computed (2 DROP TRIGGER IF EXISTS, the UPDATE of rows left, the ALTER), or the file's (2 DROP TRIGGER, the ALTER). */
const ALTER_AT = { 'glance-manage': 4, 'glance-db': 3 };

/** A connection of the test's own, for holding locks while a glance-db run goes on in another process. */
async function session(db: TestDb) {
  const p = serverParts('mysql');
  const database = new URL(db.url.replace(/^mysql:/, 'http:')).pathname.slice(1);
  return mysql.createConnection({
    host: p.host,
    port: Number(p.port),
    user: p.user,
    password: p.password || undefined,
    database,
  });
}

/** Waits until a statement of another connection to this database matching `like` shows `state` in the process list; its id. */
async function waitFor(c: mysql.Connection, like: string, state: RegExp): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const [rows] = await c.query(
      'SELECT id, state FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE ?',
      [like],
    );
    const hit = (rows as { id: number; state: string }[]).find((r) => state.test(String(r.state)));
    if (hit) return Number(hit.id);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no statement like ${like} reached ${state}`);
}

/** Where a failure of 45's contract is said to be: a statement computed from the live schema, or the file's line. */
const WHERE = {
  'glance-manage': (at: number) =>
    `statement ${at} of version 45's contract phase, computed from the live schema \\(not a line of sql/mysql/045_add_visibility\\.contract\\.sql\\)`,
  'glance-db': (at: number) => `sql/mysql/045_add_visibility\\.contract\\.sql:\\d+:\\d+ \\(statement ${at}\\)`,
};

if (existsSync(GLANCE_MANAGE) && mysqlEnv.available()) {
  for (const by of ['glance-manage', 'glance-db'] as const) {
    const at = ALTER_AT[by];
    s(
      `${by} expanded; contract fails at its ALTER on a planted foreign key; after the fix contract resumes at statement ${at}; both agree`,
      () =>
        withDb(mysqlEnv, async (db) => {
          await expanded(db, by);
          await db.exec(PLANT_FK);
          expectGdb(
            db,
            ['contract'],
            7,
            new RegExp(`Version 45 failed at ${WHERE[by](at)}[^]*it resumes at statement ${at}`),
          );
          const r = await row45(db);
          assert.equal([r.status, r.applied], ['failed', at - 1], r.error);
          assert.equal(await triggers(db), [], 'the triggers went before the ALTER');
          assert.ok(await hasIsPublic(db), 'the ALTER did not run');
          expectGdb(db, ['check', 'zed'], 14, `partly applied: version 45 stopped after ${at - 1} of ${at} statements`);
          // repair leaves a rolling upgrade under way alone, naming the command that resumes it.
          expectGdb(
            db,
            ['repair'],
            24,
            /rolling upgrade is under way[^]*Finish the rolling upgrade first: glance-db contract/,
          );
          assert.equal(await row45(db), r);
          await db.exec('DROP TABLE site_public_flags');
          expectGdb(db, ['contract'], 0, 'database is at version 50');
          await agree(db, `${by}'s expand, contract resumed`);
        }),
    );
  }

  // Sync on a Galera node runs a version with phases through them (core/rolling.ts syncsByPhases; faked here on a
  // single server). 45's computed contract still comes from the plan's rolling steps, which finish the rolling upgrade
  // glance-db migrate recorded before any version runs through its phases; straight after glance-manage's expand,
  // sync finishes it in one go (adopt.ts), not by phases.
  const BY_PHASES = { GLANCE_DB_SYNC_BY_PHASES: '1' };
  s(
    'glance-manage expanded, glance-db migrate; contract fails at its ALTER; sync by phases (Galera) resumes it; both agree',
    () =>
      withDb(mysqlEnv, async (db) => {
        await expanded(db, 'glance-manage');
        await db.exec(PLANT_FK);
        expectGdb(db, ['contract'], 7, new RegExp(`Version 45 failed at ${WHERE['glance-manage'](4)}`));
        await db.exec('DROP TABLE site_public_flags');
        expectGdb(db, ['sync', 'zed'], 0, /contracted 45 add_visibility[^]*database is at version 50/, BY_PHASES);
        await agree(db, "glance-manage's expand, contract resumed by sync by phases");
      }),
  );
  s(
    "glance-manage expanded; sync by phases (Galera) finishes glance-manage's rolling upgrade in one go; both agree",
    () =>
      withDb(mysqlEnv, async (db) => {
        upToContract(db, 'glance-manage');
        await db.exec(POPULATE_V44);
        expectGm(db, ['db', 'expand'], 0);
        const r = expectGdb(
          db,
          ['sync', 'zed'],
          0,
          /took over from glance-manage[^]*applied 45 add_visibility/,
          BY_PHASES,
        );
        assert.not.match(r.stdout + r.stderr, /(expanding|migrating|contracting) 45/);
        await agree(db, "glance-manage's expand finished by sync by phases");
      }),
  );

  // Killed between the ALTER's own commit and its progress record: the row says statement 4 "had started", the
  // ALTER ran (is_public gone). Recomputed from that schema, the statements before it must still be those that ran.
  for (const by of ['glance-manage', 'glance-db'] as const) {
    const at = ALTER_AT[by];
    s(
      `${by} expanded; contract killed after its ALTER ran, before its progress was recorded; sync resumes it; both agree`,
      () =>
        withDb(mysqlEnv, async (db) => {
          await expanded(db, by);
          const mdl = await session(db);
          const rowLock = await session(db);
          try {
            // An open transaction holding a lock in images' child table image_tags (none on an images row): the
            // ALTER, done, waits for it to commit itself; the DROP TRIGGERs and the UPDATE of images before it do not.
            await mdl.query('START TRANSACTION');
            await mdl.query('SELECT * FROM image_tags WHERE id = -1 FOR UPDATE');
            const run = cliAsync(['contract', '--url', db.url]);
            const alter = await waitFor(mdl, 'ALTER TABLE images%', /Committing alter table|metadata lock/);
            // Its progress record then waits for the version row, locked here before the ALTER may go on.
            await rowLock.query('START TRANSACTION');
            await rowLock.query('SELECT * FROM glance_db_version WHERE version = 45 FOR UPDATE');
            await mdl.query('ROLLBACK');
            await waitFor(rowLock, 'UPDATE glance_db_version SET statements_applied%', /./);
            assert.not.ok(await hasIsPublic(db), 'the ALTER ran');
            await rowLock.query(`KILL CONNECTION ${alter}`);
            const killed = await run;
            assert.is.not(killed.code, 0, killed.stdout);
            await rowLock.query('ROLLBACK');
          } finally {
            await mdl.end();
            await rowLock.end();
          }
          const r = await row45(db);
          assert.equal([r.status, r.applied, r.error], ['failed', at - 1, `interrupted: statement ${at} had started`]);
          expectGdb(db, ['sync', 'zed'], 0);
          await agree(db, `${by}'s expand, contract killed after its ALTER`);
        }),
    );
  }
}

s.run();
