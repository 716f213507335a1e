// Taking over databases that glance-manage built (issue: alembic_version,
// migrate_version, half-finished rolling upgrades, hand-edited schemas),
// the same on every dialect.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { REVISION_FOR_VERSION } from '../src/glance/revisions.js';
import { EXPECTED_VISIBILITY, POPULATE_V44 } from './conformance.js';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { cli, cliAsync, range, runCli, span, FIRST, LATEST, LATEST_REVISION, VERSIONS } from './helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const IGNORE = { ignoreTables: ['alembic_version', 'migrate_version', 'glance_db_version', 'glance_db_version_lock'] };
const ts = "'2020-01-01 00:00:00'";

/** What glance-manage leaves: the reference schema and its bookkeeping rows. */
export async function glanceBuilt(db: TestDb, version: number, revisions: string[], legacy?: number): Promise<void> {
  await db.loadReference(version);
  for (const r of revisions) await db.exec(`INSERT INTO alembic_version (version_num) VALUES ('${r}')`);
  if (legacy !== undefined) {
    await db.exec(
      `CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL PRIMARY KEY, repository_path TEXT, version INTEGER)`,
    );
    await db.exec(
      `INSERT INTO migrate_version VALUES ('Glance Migrations', '/usr/lib/python3/dist-packages/glance/db/sqlalchemy/migrate_repo', ${legacy})`,
    );
  }
}

const laterImages = [
  `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility) VALUES ('kept-shared', 'a', 'active', ${ts}, '0', 0, 0, '0', 'shared')`,
  `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility) VALUES ('kept-community', 'b', 'active', ${ts}, '1', 0, 0, '0', 'community')`,
];

export function takeover(env: DialectEnv): void {
  const s = suite(`take-over: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const sync = (db: TestDb, args: string[] = []) => runCli(['sync', ...args, '--url', db.url]);
  const alembic = async (db: TestDb) =>
    (await db.rows('SELECT version_num FROM alembic_version')).map((r) => String(r.version_num));
  // Glance's schema at the newest version, loaded and introspected once for the whole file.
  let latestReference: Promise<SchemaModel> | null = null;

  for (const v of VERSIONS.slice(0, -1)) {
    const variants: [string, string[], number | undefined][] = [
      [`alembic_version ${REVISION_FOR_VERSION[v]}`, [REVISION_FOR_VERSION[v]], undefined],
    ];
    if (v <= 45) variants.push([`migrate_version ${v}`, [], v]);
    for (const [label, revisions, legacy] of variants) {
      s(`adopt a Glance ${v} database (${label}) with rows, upgrade to ${LATEST}`, () =>
        withDb(env, async (db) => {
          await glanceBuilt(db, v, revisions, legacy);
          await db.exec(v < 45 ? POPULATE_V44 : laterImages.join(';\n'));
          const version = await runCli(['version', '--url', db.url]);
          assert.is(version.stdout, `${v}\n`, version.stderr);
          assert.is(version.stderr, `managed by glance-manage (${label.replace(' ', ': ')})\n`);
          assert.equal(
            JSON.parse((await runCli(['version', '--url', db.url, '--json'])).stdout).source,
            label.replace(' ', ': '),
          );
          const r = await sync(db);
          assert.is(r.code, 0, r.stderr);
          assert.match(
            r.stdout,
            `adopted: took over from glance-manage (${label.replace(' ', ': ')}); recorded versions ${span(FIRST, v)} (nothing run)`,
          );
          latestReference ??= withDb(env, async (ref) => (await ref.loadReference(LATEST), ref.model()));
          assert.equal(diffSchemas(await latestReference, await db.model(), IGNORE), []);
          const vis = Object.fromEntries(
            (await db.rows('SELECT id, visibility FROM images')).map((x) => [x.id, String(x.visibility)]),
          );
          assert.equal(vis, v < 45 ? EXPECTED_VISIBILITY : { 'kept-shared': 'shared', 'kept-community': 'community' });
          assert.equal(await alembic(db), [REVISION_FOR_VERSION[LATEST]]);
          if (legacy !== undefined)
            assert.is(Number((await db.rows('SELECT version FROM migrate_version'))[0].version), 45);
          const kinds = (await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version')).map((x) =>
            String(x.kind),
          );
          assert.equal(
            kinds,
            VERSIONS.map((x) => (x <= v ? 'adopted' : 'applied')),
          );
          assert.is((await runCli(['version', '--url', db.url])).stdout, `${LATEST}\n`);
        }),
      );
    }
  }

  s('eight syncs at once on a glance-manage database: one takes it over, none fails, each version recorded once', () =>
    withDb(env, async (db) => {
      await glanceBuilt(db, 44, [REVISION_FOR_VERSION[44]]);
      await db.exec(POPULATE_V44);
      const runs = await Promise.all(
        Array.from({ length: 8 }, () => cliAsync(['sync', '--url', db.url, '--lock-wait', '120'])),
      );
      for (const r of runs) assert.is(r.code, 0, r.stderr);
      assert.is(
        runs.filter((r) => r.stdout.includes('adopted: took over from glance-manage')).length,
        1,
        runs.map((r) => r.stdout).join('\n'),
      );
      assert.is(runs.flatMap((r) => r.stdout.match(/applied \d+ /g) ?? []).length, range(45, LATEST).length);
      const rows = await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version');
      assert.equal(
        rows.map((x) => `${x.version}:${x.kind}`),
        VERSIONS.map((v) => `${v}:${v <= 44 ? 'adopted' : 'applied'}`),
      );
      const vis = Object.fromEntries(
        (await db.rows('SELECT id, visibility FROM images')).map((x) => [x.id, String(x.visibility)]),
      );
      assert.equal(vis, EXPECTED_VISIBILITY);
    }),
  );

  s(
    'a plan script for a database glance-manage built (offline --from 44, and online) records 42-44 as adopted, as sync does; sync after it is a no-op',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'glance-db-plan-'));
      try {
        for (const online of [false, true]) {
          await withDb(env, async (db) => {
            await glanceBuilt(db, 44, ['mitaka02']);
            await db.exec(POPULATE_V44);
            const out = join(dir, `upgrade-${online}.sql`);
            const p = await runCli([
              'plan',
              ...(online ? ['--url', db.url] : ['--dialect', env.dialect, '--from', '44']),
              '--output',
              out,
            ]);
            assert.is(p.code, 0, p.stderr);
            const r = db.runScript(out);
            assert.is(r.code, 0, r.stderr);
            const kinds = (await db.rows('SELECT version, kind, status FROM glance_db_version ORDER BY version')).map(
              (x) => `${x.version}:${x.kind}:${x.status}`,
            );
            assert.equal(
              kinds,
              [42, 43, 44]
                .map((v) => `${v}:adopted:complete`)
                .concat(range(45, LATEST).map((v) => `${v}:applied:complete`)),
            );
            assert.equal(await alembic(db), [LATEST_REVISION]);
            const again = await sync(db);
            assert.is(again.code, 0, again.stderr);
            assert.match(again.stdout, `already at version ${LATEST}; nothing to do`);
            assert.is((await runCli(['check', '--url', db.url])).code, 0);
            const vis = Object.fromEntries(
              (await db.rows('SELECT id, visibility FROM images')).map((x) => [x.id, String(x.visibility)]),
            );
            assert.equal(vis, EXPECTED_VISIBILITY);
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  s('a fresh glance-db database gets alembic_version too, so glance-manage agrees', () =>
    withDb(env, async (db) => {
      assert.is((await sync(db, ['48'])).code, 0);
      assert.equal(await alembic(db), ['rocky_contract02']);
      assert.is((await sync(db)).code, 0);
      assert.equal(await alembic(db), [REVISION_FOR_VERSION[LATEST]]);
    }),
  );

  s('a hand-edited database is refused with its differences, and left unchanged', () =>
    withDb(env, async (db) => {
      await glanceBuilt(db, 47, ['rocky_contract01']);
      await db.exec('CREATE INDEX handmade_idx ON images (name)');
      const r = await sync(db);
      assert.is(r.code, 12, r.stderr);
      assert.match(r.stderr, 'alembic_version: rocky_contract01 says version 47, but the schema is not that version');
      assert.match(r.stderr, 'images: unexpected index handmade_idx(name)');
      assert.not.ok((await db.rows('SELECT 1 AS x FROM alembic_version')).length !== 1);
      assert.equal(await alembic(db), ['rocky_contract01']);
      const tables = (await db.model()).tables;
      assert.not.ok('glance_db_version' in tables);
    }),
  );

  s(
    'a rolling upgrade stopped half way with empty contracts ahead is finished (rocky_expand02 + pike_contract01)',
    () =>
      withDb(env, async (db) => {
        await glanceBuilt(db, 48, ['rocky_expand02', 'pike_contract01']);
        const version = await runCli(['version', '--url', db.url]);
        assert.equal(
          [version.stdout, version.stderr],
          ['46\n', 'managed by glance-manage (alembic_version: pike_contract01, rocky_expand02)\n'],
        );
        const r = await sync(db);
        assert.is(r.code, 0, r.stderr);
        // Up to the contract head adopted at once; the versions the expand steps built are recorded in order as they come.
        assert.match(r.stdout, 'recorded versions 42-46');
        const kinds = (await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version')).map(
          (x) => `${x.version}:${x.kind}`,
        );
        assert.equal(
          kinds,
          VERSIONS.map((v) => `${v}:${v <= 48 ? 'adopted' : 'applied'}`),
        );
        assert.equal(await alembic(db), [REVISION_FOR_VERSION[LATEST]]);
      }),
  );

  s(
    'a rolling upgrade whose data-only step did not run (wallaby_expand01 + rocky_contract02): the message lists what was recorded, 49 runs, no history gap',
    () =>
      withDb(env, async (db) => {
        await glanceBuilt(db, 50, ['wallaby_expand01', 'rocky_contract02']);
        const r = await sync(db, ['50']);
        assert.is(r.code, 0, r.stderr);
        // Up to the contract head adopted at once; 49 runs; 50, which the expand step built, is recorded as it comes.
        assert.match(r.stdout, 'recorded versions 42-48 (nothing run)');
        assert.match(r.stdout, 'applied 49 location_backend_to_store');
        const kinds = (await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version')).map(
          (x) => `${x.version}:${x.kind}`,
        );
        assert.equal(
          kinds,
          range(42, 50).map((v) => `${v}:${v === 49 ? 'applied' : 'adopted'}`),
        );
        assert.is((await runCli(['check', '--url', db.url])).code, 13);
      }),
  );

  s('a backup of a database glance-manage built is named after its level', () =>
    withDb(env, async (db) => {
      await glanceBuilt(db, 44, ['mitaka02']);
      const dir = mkdtempSync(join(tmpdir(), 'glance-db-backup-'));
      try {
        const r = await sync(db, ['--backup', '--backup-dir', dir, '--json']);
        assert.is(r.code, 0, r.stderr);
        assert.match(JSON.parse(r.stdout).backup, /-v44-\d{8}T\d{6}Z\.(sqlite|dump|sql)$/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  s(
    "bookkeeping that says Ocata's expand ran on a schema without visibility is refused, with the differences of the live schema",
    () =>
      withDb(env, async (db) => {
        await glanceBuilt(db, 44, ['ocata_expand01', 'mitaka02']);
        const r = await sync(db);
        assert.is(r.code, 12, r.stderr);
        assert.match(r.stderr, 'images: missing column visibility');
        assert.equal((await alembic(db)).sort(), ['mitaka02', 'ocata_expand01']);
      }),
  );

  s(
    "expand and contract on a rolling upgrade Glance's own tool began: refused (exit 35), migrate is next; migrate checks the schema first (here no visibility: refused as sync is); nothing recorded",
    () =>
      withDb(env, async (db) => {
        await glanceBuilt(db, 44, ['ocata_expand01', 'mitaka02']);
        for (const phase of ['expand', 'contract']) {
          // A real process: the exit code and the stderr split are the contract.
          const r = cli([phase, '--url', db.url]);
          assert.is(r.code, 35, r.stderr);
          assert.match(r.stderr, "glance-manage's own rolling upgrade expanded");
          assert.match(r.stderr, `hint: Run glance-db migrate --url ${db.url}: it records glance-manage's expand`);
        }
        const m = await runCli(['migrate', '--url', db.url]);
        assert.is(m.code, 12, m.stderr);
        assert.match(m.stderr, 'images: missing column visibility');
        assert.is(
          await db.rows('SELECT count(*) AS n FROM glance_db_version').then(
            () => 'present',
            () => 'absent',
          ),
          'absent',
        );
        assert.equal((await alembic(db)).sort(), ['mitaka02', 'ocata_expand01']);
      }),
  );

  s('a legacy version below 42 and an unknown Alembic revision are refused, naming what to do', () =>
    withDb(env, async (db) => {
      await glanceBuilt(db, 42, [], 38);
      const old = await sync(db);
      assert.is(old.code, 11, old.stderr);
      assert.match(old.stderr, "predates glance-db's baseline (42, Glance Liberty)");
      assert.match(old.stderr, 'glance-manage db sync from Glance 11.0 (Liberty)');
      await db.exec("INSERT INTO alembic_version (version_num) VALUES ('2025_2_contract01')");
      const unknown = await sync(db);
      assert.is(unknown.code, 11, unknown.stderr);
      assert.match(unknown.stderr, 'revision "2025_2_contract01", which glance-db does not know');
    }),
  );

  s.run();
}
