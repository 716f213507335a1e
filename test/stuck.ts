// history, repair and the expected schemas of versions a site adds (issue
// 14: never stuck, never silently wrong), the same on every dialect.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { withDb, withDbAtLatest, type DialectEnv, type TestDb } from './dialects.js';
import { cli, extraVersion, LATEST, makeProject, NEXT, range, removeProject, runCli } from './helpers.js';

/** The version table exactly as the first release created it (before run_by). */
function firstReleaseDdl(dialect: string): string {
  const text = dialect === 'mysql' ? 'LONGTEXT' : 'TEXT';
  return `CREATE TABLE glance_db_version_old (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, dialect VARCHAR(16) NOT NULL,
    checksum VARCHAR(100) NOT NULL, kind VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL, statements_applied INTEGER NOT NULL,
    statements_total INTEGER NOT NULL, statement_hashes ${text}, error ${text}, applied_at VARCHAR(32) NOT NULL, execution_ms INTEGER NOT NULL,
    tool_version VARCHAR(32) NOT NULL)${dialect === 'mysql' ? ' ENGINE=InnoDB' : ''}`;
}
const BASE =
  'version, name, dialect, checksum, kind, status, statements_applied, statements_total, statement_hashes, error, applied_at, execution_ms, tool_version';

export function stuck(env: DialectEnv): void {
  const s = suite(`history, repair, site versions: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const run = (db: TestDb, args: string[], cwd?: string) => runCli([...args, '--url', db.url], cwd ? { cwd } : {});
  const me = `${userInfo().username}@${hostname()}`;
  const count = async (db: TestDb) => Number((await db.rows('SELECT count(*) AS n FROM glance_db_version'))[0].n);

  s(
    'history lists every version with kind, checksum, duration, tool and who ran it; --json; exit 5 when not under version control',
    () =>
      withDb(env, async (db) => {
        // A real process: the exit code is the contract.
        assert.is(cli(['history', '--url', db.url]).code, 5);
        const verify = await run(db, ['verify']);
        assert.is(verify.code, 5);
        assert.match(verify.stderr, '(verify only works on a database glance-db manages)');
        assert.is((await run(db, ['sync', '47'])).code, 0);
        const h = await run(db, ['history']);
        assert.is(h.code, 0, h.stderr);
        const lines = h.stdout.trim().split('\n');
        assert.match(
          lines[0],
          /^version\s+name\s+kind\s+applied_at\s+ms\s+statements\s+checksum\s+file\s+tool\s+run_by$/,
        );
        assert.is(lines.length, 1 + range(42, 47).length + 1);
        assert.match(
          lines[1],
          new RegExp(
            `^42\\s+liberty_baseline\\s+applied\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+\\d+\\s+\\d+/\\d+\\s+sha256-lf:[0-9a-f]{12}\\.\\.\\.\\s+unchanged\\s+0\\.1\\.0\\s+${me.replace(/\./g, '\\.')}$`,
          ),
        );
        assert.is(lines[lines.length - 1], `pending: ${range(48, LATEST).join(', ')}`);
        const j = JSON.parse((await run(db, ['db', 'history', '--json'])).stdout);
        assert.is(j.command, 'history');
        assert.equal(j.pending, range(48, LATEST));
        assert.equal(
          j.versions.map((v: { version: number; kind: string; runBy: string }) => [v.version, v.kind, v.runBy]),
          range(42, 47).map((v) => [v, 'applied', me]),
        );
      }),
  );

  s("history shows each row's note (here drift accepted with sync --accept-drift), in the listing and in --json", () =>
    withDbAtLatest(env, async (db) => {
      await db.exec('CREATE INDEX handmade_idx ON images (owner, status)');
      const a = await run(db, ['sync', '--accept-drift']);
      assert.is(a.code, 0, a.stderr);
      const h = await run(db, ['history']);
      assert.is(h.code, 0, h.stderr);
      assert.match(h.stdout, new RegExp(`\\nversion ${LATEST} note: \\{"acceptedDrift":\\[[^\\n]*handmade_idx`));
      assert.is((h.stdout.match(/ note: /g) ?? []).length, 1);
      const j = JSON.parse((await run(db, ['history', '--json'])).stdout);
      const notes = j.versions.map((v: { version: number; note: string | null }) => [
        v.version,
        v.note === null ? null : JSON.parse(v.note).acceptedDrift.join(';'),
      ]);
      assert.equal(
        notes.slice(0, -1),
        range(42, LATEST - 1).map((v) => [v, null]),
      );
      assert.match(notes[notes.length - 1][1], 'handmade_idx');
    }),
  );

  s(
    'a version table made by the first release (no run_by) keeps working: read as it is, and sync adds the column',
    () =>
      withDb(env, async (db) => {
        assert.is((await run(db, ['sync', '45'])).code, 0);
        const rename = (a: string, b: string) =>
          env.dialect === 'mysql' ? `RENAME TABLE ${a} TO ${b}` : `ALTER TABLE ${a} RENAME TO ${b}`;
        await db.exec(firstReleaseDdl(env.dialect));
        await db.exec(`INSERT INTO glance_db_version_old (${BASE}) SELECT ${BASE} FROM glance_db_version`);
        await db.exec('DROP TABLE glance_db_version');
        await db.exec(rename('glance_db_version_old', 'glance_db_version'));
        assert.equal([(await run(db, ['check'])).code, (await run(db, ['version'])).stdout], [13, '45\n']);
        const h = await run(db, ['history']);
        assert.is(h.code, 0, h.stderr);
        assert.not.match(h.stdout, 'run_by');
        const r = await run(db, ['sync']);
        assert.is(r.code, 0, r.stderr);
        const who = (await db.rows('SELECT version, run_by FROM glance_db_version ORDER BY version')).map((x) => [
          Number(x.version),
          x.run_by ?? null,
        ]);
        assert.equal(who, [...range(42, 45).map((v) => [v, null]), ...range(46, LATEST).map((v) => [v, me])]);
        assert.match((await run(db, ['history'])).stdout, /run_by/);
      }),
  );

  s(
    'repair: a hole in the version table is re-recorded when the schema shows the version ran; --dry-run changes nothing',
    () =>
      withDbAtLatest(env, async (db) => {
        await db.exec('DELETE FROM glance_db_version WHERE version = 49');
        const dry = await run(db, ['repair', '--dry-run']);
        assert.is(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, `recorded level: ${LATEST}; the live schema is exactly that of version`);
        assert.match(dry.stdout, 'would record version 49 as baseline');
        // --json: validated against schema/output.schema.json's repair entry by (await runCli()).
        const dj = JSON.parse((await run(db, ['repair', '--dry-run', '--json'])).stdout);
        assert.equal(
          [dj.command, dj.dryRun, dj.recorded, dj.actions.map((a: { version: number }) => a.version)],
          ['repair', true, LATEST, [49]],
        );
        assert.is((await run(db, ['check'])).code, 16);
        const r = await run(db, ['repair']);
        assert.is(r.code, 0, r.stderr);
        assert.match(r.stdout, 'record version 49 as baseline (the schema shows it ran; nothing is run): done');
        assert.is((await run(db, ['check'])).code, 0);
        assert.equal(
          (await db.rows('SELECT kind FROM glance_db_version WHERE version = 49')).map((x) => x.kind),
          ['baseline'],
        );
        assert.match((await run(db, ['repair'])).stdout, 'nothing to repair');
        const none = JSON.parse((await run(db, ['repair', '--json'])).stdout);
        assert.equal([none.dryRun, none.actions], [false, []]);
      }),
  );

  s('repair refuses, changing nothing, when the schema matches no known state (exit 24)', () =>
    withDbAtLatest(env, async (db) => {
      await db.exec('DELETE FROM glance_db_version WHERE version = 49');
      await db.exec('CREATE INDEX handmade_idx ON images (owner, status)');
      const r = await run(db, ['repair']);
      assert.is(r.code, 24, r.stdout + r.stderr);
      assert.match(r.stderr, 'the live schema matches no known version');
      assert.match(r.stderr, 'images: unexpected index handmade_idx(owner, status)');
      assert.is(await count(db), range(42, LATEST).length - 1);
    }),
  );

  s('repair removes a failed row (of 51 add_cache_tables, on 50) only when the schema shows nothing of it ran', () =>
    withDb(env, async (db) => {
      assert.is((await run(db, ['sync', '50'])).code, 0);
      const row = (await db.rows('SELECT * FROM glance_db_version WHERE version = 50'))[0];
      const failed = (applied: number) =>
        `INSERT INTO glance_db_version (${BASE}) VALUES (51, 'add_cache_tables', '${env.dialect}', '${row.checksum}', 'applied', 'failed', ${applied}, 4, '[]', 'in progress (interrupted if this stays)', '2026-01-01T00:00:00Z', 0, '0.1.0')`;
      await db.exec(failed(0));
      assert.is((await run(db, ['check'])).code, 14);
      const r = await run(db, ['repair']);
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        'remove the failed row of version 51 (the schema is that of 50; sync runs 51 again from its start): done',
      );
      assert.is((await run(db, ['check'])).code, 13);
      await db.exec(failed(2));
      const refused = await run(db, ['repair']);
      assert.is(refused.code, 24, refused.stdout + refused.stderr);
      assert.is(await count(db), range(42, 51).length);
    }),
  );

  s('repair --accept-checksum VERSION re-records a changed file only when asked, after printing what changed', () =>
    withDb(env, async (db) => {
      const dir = makeProject();
      try {
        assert.is((await run(db, ['sync', '47'], dir)).code, 0);
        const file = join(dir, `sql/${env.dialect}/046_drop_artifacts_tables.sql`);
        writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- reviewed comment\n`);
        const plain = await run(db, ['repair'], dir);
        assert.is(plain.code, 4, plain.stderr);
        assert.match(plain.stderr, 'Checksum mismatch for version 46');
        assert.is((await run(db, ['repair', '--accept-checksum', '45'], dir)).code, 4);
        const dry = await run(db, ['repair', '--accept-checksum', '46', '--dry-run'], dir);
        assert.is(dry.code, 0, dry.stderr);
        assert.match(
          dry.stdout,
          /version 46: sql\/\w+\/046_drop_artifacts_tables\.sql was recorded with sha256-lf:\w+, the file now has sha256-lf:\w+/,
        );
        assert.match(dry.stdout, 'would re-record the checksum of version 46');
        assert.is((await run(db, ['check'], dir)).code, 4);
        const r = await run(db, ['repair', '--accept-checksum', '46'], dir);
        assert.is(r.code, 0, r.stderr);
        assert.is((await run(db, ['check'], dir)).code, 13);
        assert.is((await run(db, ['repair', '--accept-checksum', '46'], dir)).code, 2);
      } finally {
        removeProject(dir);
      }
    }),
  );

  s(
    'a version the site adds: lint reports its missing expected schema, verify and check say so in one line, glance-db snapshot makes it; an unknown row 99 is exit 11',
    () =>
      withDb(env, async (db) => {
        const dir = makeProject(
          extraVersion(NEXT, 'site_extra', 'CREATE TABLE site_extra (id INTEGER NOT NULL PRIMARY KEY);\n'),
        );
        try {
          const lint = cli(['lint', '--update'], { cwd: dir });
          assert.is(lint.code, 0, lint.stderr);
          assert.match(
            lint.stdout,
            `lint: no expected schema for version ${NEXT} (sqlite, postgresql, mysql): make it with glance-db snapshot ${NEXT}`,
          );
          assert.is((await run(db, ['sync'], dir)).code, 0);
          // The shipped manifest does not list that version, which this very release recorded: the hint says so, not "a newer glance-db".
          const other = await run(db, ['sync']);
          assert.is(other.code, 11, other.stderr);
          assert.match(
            other.stderr,
            'It was recorded by this glance-db release (0.1.0) with another manifest that lists it',
          );
          const v = await run(db, ['verify'], dir);
          assert.equal([v.code, v.stdout.split('\n').length, v.stderr], [0, 2, '']);
          assert.match(
            v.stdout,
            new RegExp(
              `^not compared: There is no expected \\w+ schema for version ${NEXT} \\(looked for .*v${NEXT}\\.json\\): make it with glance-db snapshot ${NEXT}`,
            ),
          );
          assert.equal(
            [(await run(db, ['check'], dir)).code, (await run(db, ['check'], dir)).stdout],
            [0, `current: at version ${NEXT} (schema not compared: no expected schema for version ${NEXT})\n`],
          );
          await withDb(env, async (scratch) => {
            const snap = await runCli(
              ['snapshot', `${NEXT}`, '--json', ...(env.dialect === 'sqlite' ? [] : ['--url', scratch.url])],
              { cwd: dir },
            );
            assert.is(snap.code, 0, snap.stderr);
            const sj = JSON.parse(snap.stdout);
            assert.equal(
              [sj.command, sj.version, sj.dialect, sj.path],
              ['snapshot', NEXT, env.dialect, join(dir, 'schema', 'expected', env.dialect, `v${NEXT}.json`)],
            );
            assert.ok(existsSync(sj.path));
          });
          assert.equal(
            [(await run(db, ['verify'], dir)).code, (await run(db, ['verify'], dir)).stdout],
            [0, `schema matches version ${NEXT}\n`],
          );
          assert.is((await run(db, ['check'], dir)).stdout, `current: at version ${NEXT}\n`);
          await db.exec('CREATE INDEX handmade_idx ON site_extra (id)');
          assert.is((await run(db, ['verify'], dir)).code, 12);
          await db.exec(
            `INSERT INTO glance_db_version (${BASE}) VALUES (99, 'future', '${env.dialect}', 'sha256-lf:0', 'applied', 'complete', 1, 1, NULL, NULL, '2030-01-01T00:00:00Z', 0, '9.9.9')`,
          );
          const future = await run(db, ['verify'], dir);
          assert.is(future.code, 11, future.stdout + future.stderr);
          assert.not.match(future.stderr, 'ENOENT');
        } finally {
          removeProject(dir);
        }
      }),
  );

  s.run();
}
