// The suite every driver must pass (golang-migrate's database/testing): the
// reference schema at every version, the data steps, baseline, checksum
// drift, the lock under concurrent runs, and a failure inside a version.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { loadSnapshot } from '../src/core/introspect/snapshot.js';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cli,
  cliAsync,
  makeProject,
  extraVersion,
  removeProject,
  span,
  FIRST,
  LATEST,
  range,
  VERSIONS,
  runCli,
  versionFile,
} from './helpers.js';
import { rollingConformance } from './conformance-rolling.js';

const IGNORE = { ignoreTables: ['alembic_version', 'glance_db_version', 'glance_db_version_lock'] };

const ts = "'2020-01-01 00:00:00'";
const image = (id: string, isPublic: string, deleted: string) =>
  `INSERT INTO images (id, name, status, is_public, created_at, deleted, min_disk, min_ram, protected) VALUES ('${id}', '${id}', 'active', '${isPublic}', ${ts}, '${deleted}', 0, 0, '0');`;
const member = (imageId: string, who: string, deleted: string) =>
  `INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status, deleted_at) VALUES ('${imageId}', '${who}', '0', ${ts}, '${deleted}', 'accepted', ${deleted === '1' ? ts : 'NULL'});`;
const location = (imageId: string, meta: string | null) =>
  `INSERT INTO image_locations (image_id, value, created_at, deleted, meta_data, status) VALUES ('${imageId}', 'file:///${imageId}', ${ts}, '0', ${meta === null ? 'NULL' : `'${meta}'`}, 'active');`;

export const POPULATE_V44 = [
  image('public', '1', '0'),
  image('private', '0', '0'),
  image('shared', '0', '0'),
  member('shared', 'tenant-a', '0'),
  member('shared', 'tenant-b', '1'),
  image('private-deleted-members', '0', '0'),
  member('private-deleted-members', 'tenant-a', '1'),
  image('deleted-public', '1', '1'),
  image('deleted-shared', '0', '1'),
  member('deleted-shared', 'tenant-c', '0'),
  image('public-with-member', '1', '0'),
  member('public-with-member', 'tenant-d', '0'),
  location('public', '{"backend": "fast"}'),
  location('private', '{"store": "slow"}'),
  location('shared', null),
  `INSERT INTO image_properties (image_id, name, value, created_at, deleted) VALUES ('public', 'os_distro', 'debian', ${ts}, '0');`,
  `INSERT INTO image_tags (image_id, value, created_at, deleted) VALUES ('private', 'gold', ${ts}, '0');`,
].join('\n');

export const EXPECTED_VISIBILITY = {
  public: 'public',
  private: 'private',
  shared: 'shared',
  'private-deleted-members': 'private',
  'deleted-public': 'public',
  'deleted-shared': 'shared',
  'public-with-member': 'public',
};

const brokenSql =
  '-- fails on purpose\nCREATE TABLE ok_table (id INTEGER);\n\n  INSERT INTO no_such_table VALUES (1);\n';

/**
 * The conformance suite of one dialect. rolling: false leaves out the rolling
 * upgrades (test/conformance-rolling.ts: real processes, writers beside them,
 * kill -9), which SQLite runs as a file of its own (conformance-rolling-sqlite),
 * so that npm run test:fast has the in-process part.
 */
export function conformance(env: DialectEnv, { rolling = true }: { rolling?: boolean } = {}): void {
  const s = suite(`conformance: ${env.label ?? env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const sync = async (db: TestDb, args: string[], dir?: string) =>
    await runCli(['sync', ...args, '--url', db.url], dir ? { cwd: dir } : {});
  // The model of reference vN loaded into a fresh database of this server, made
  // once per version for the whole file (issue 30): the schema tests and the
  // snapshot test below compare against the same models, loaded the same way.
  const references = new Map<number, Promise<SchemaModel>>();
  const reference = (v: number) => {
    if (!references.has(v))
      references.set(
        v,
        withDb(env, async (ref) => (await ref.loadReference(v), ref.model())),
      );
    return references.get(v)!;
  };

  for (const v of VERSIONS) {
    s(`schema at version ${v} equals reference v${v}/${env.dialect}.sql`, () =>
      withDb(env, async (db) => {
        const r = await sync(db, [String(v)]);
        assert.is(r.code, 0, r.stderr);
        const built = await db.model();
        assert.equal(diffSchemas(await reference(v), built, IGNORE), []);
      }),
    );
  }

  s('the committed expected-schema snapshots equal the reference at every version', async () => {
    for (const v of VERSIONS)
      assert.equal(diffSchemas(await reference(v), loadSnapshot(env.dialect, v), IGNORE), [], `v${v}`);
  });

  s('data steps: visibility rule, store key, resource type rename; no row lost', () =>
    withDb(env, async (db) => {
      assert.is((await sync(db, ['43'])).code, 0);
      await db.exec(
        `INSERT INTO metadef_resource_types (name, protected, created_at) VALUES ('OS::Nova::Instance', '1', ${ts}); INSERT INTO metadef_resource_types (name, protected, created_at) VALUES ('OS::Glance::Image', '1', ${ts});`,
      );
      assert.is((await sync(db, ['44'])).code, 0);
      await db.exec(POPULATE_V44);
      const tables = [
        'images',
        'image_members',
        'image_locations',
        'image_properties',
        'image_tags',
        'metadef_resource_types',
      ];
      const counts = () =>
        Promise.all(tables.map(async (t) => Number((await db.rows(`SELECT count(*) AS n FROM ${t}`))[0].n)));
      const before = await counts();
      const r = await sync(db, []);
      assert.is(r.code, 0, r.stderr);
      assert.equal(await counts(), before);
      const vis = Object.fromEntries(
        (await db.rows('SELECT id, visibility FROM images')).map((x) => [x.id, String(x.visibility)]),
      );
      assert.equal(vis, EXPECTED_VISIBILITY);
      const meta = (await db.rows('SELECT image_id, meta_data FROM image_locations ORDER BY image_id')).map(
        (x) => x.meta_data,
      );
      assert.equal(meta, ['{"store": "slow"}', '{"store": "fast"}', null]);
      const names = (await db.rows('SELECT name FROM metadef_resource_types ORDER BY name')).map((x) => x.name);
      assert.equal(names, ['OS::Glance::Image', 'OS::Nova::Server']);
    }),
  );

  s(
    `sync VERSION CURRENT_VERSION on a database Glance built at 44: baseline ${span(FIRST, 44)}, then the rest, reference schema`,
    () =>
      withDb(env, async (db) => {
        await db.loadReference(44);
        const refused = await sync(db, []);
        assert.is(refused.code, 5, refused.stderr);
        const r = await sync(db, [String(LATEST), '44']);
        assert.is(r.code, 0, r.stderr);
        const kinds = (await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version')).map(
          (x) => `${x.version}:${x.kind}`,
        );
        assert.equal(
          kinds,
          VERSIONS.map((v) => `${v}:${v <= 44 ? 'baseline' : 'applied'}`),
        );
        assert.equal(diffSchemas(await reference(LATEST), await db.model(), IGNORE), []);
      }),
  );

  s('checksum drift stops everything and changes nothing', () =>
    withDb(env, async (db) => {
      const dir = makeProject({ [`sql/${env.dialect}/046_drop_artifacts_tables.sql`]: null });
      try {
        const file = `sql/${env.dialect}/046_drop_artifacts_tables.sql`;
        const { readFileSync, writeFileSync } = await import('node:fs');
        writeFileSync(`${dir}/${file}`, readFileSync(new URL(`../../${file}`, import.meta.url)));
        assert.is((await sync(db, ['47'], dir)).code, 0);
        writeFileSync(`${dir}/${file}`, `${readFileSync(`${dir}/${file}`, 'utf8')}\n-- edited\n`);
        const r = await sync(db, [], dir);
        assert.is(r.code, 4, r.stderr);
        assert.match(r.stderr, `Checksum mismatch for version 46: ${file}`);
        assert.is(cli(['version', '--url', db.url], { cwd: dir }).stdout, '47\n');
      } finally {
        removeProject(dir);
      }
    }),
  );

  s('eight syncs at once: all succeed, each version applied exactly once', () =>
    withDb(env, async (db) => {
      const runs = await Promise.all(
        Array.from({ length: 8 }, () => cliAsync(['sync', '--url', db.url, '--lock-wait', '120'])),
      );
      for (const r of runs) assert.is(r.code, 0, r.stderr);
      const applied = runs.flatMap((r) => r.stdout.match(/applied \d+ /g) ?? []);
      assert.is(applied.length, VERSIONS.length, runs.map((r) => r.stdout).join('\n'));
      assert.is(Number((await db.rows('SELECT count(*) AS n FROM glance_db_version'))[0].n), VERSIONS.length);
    }),
  );

  s('a failure inside a version names file:line:column and leaves the database usable', () =>
    withDb(env, async (db) => {
      const dir = makeProject(extraVersion(LATEST + 1, 'broken', brokenSql));
      try {
        assert.is((await sync(db, [String(LATEST)], dir)).code, 0);
        const r = await sync(db, [], dir);
        assert.is(r.code, 7, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`Version ${LATEST + 1} failed at sql/\\w+/${LATEST + 1}_broken\\.sql:4:\\d+ \\(statement 2\\)`),
        );
        assert.match(r.stderr, 'no_such_table');
        assert.is((await runCli(['version', '--url', db.url], { cwd: dir })).stdout, `${LATEST}\n`);
      } finally {
        removeProject(dir);
      }
    }),
  );

  s(
    "sync VERSION CURRENT_VERSION on an empty database, or on a schema not that version's, is refused before anything is recorded",
    () =>
      withDb(env, async (db) => {
        const empty = await sync(db, [String(LATEST), '44']);
        assert.is(empty.code, 12, empty.stderr);
        assert.match(
          empty.stderr,
          'The database is empty, so it is not at version 44 (CURRENT_VERSION). Nothing was changed.',
        );
        assert.match(empty.stderr, 'missing table images');
        // A real process; the other runs of this suite are in process (test/run-cli-sqlite.test.ts).
        assert.is(cli(['check', '--url', db.url]).code, 5);
        await db.loadReference(47);
        const other = await sync(db, [String(LATEST), '44']);
        assert.is(other.code, 12, other.stderr);
        assert.match(other.stderr, "The database's schema is not that of version 44");
        assert.is(
          await db.rows('SELECT count(*) AS n FROM glance_db_version').then(
            () => 'present',
            () => 'absent',
          ),
          'absent',
        );
        const right = await sync(db, [String(LATEST), '47']);
        assert.is(right.code, 0, right.stderr);
      }),
  );

  for (const [hole, at] of [
    [49, LATEST],
    [43, LATEST],
    [45, 47],
  ] as const) {
    s(
      `a hole in the version table (row ${hole} deleted at ${at}) is reported by check, version and sync alike (exit 16), never filled`,
      () =>
        withDb(env, async (db) => {
          assert.is((await sync(db, [String(at)])).code, 0);
          await db.exec(`DELETE FROM glance_db_version WHERE version = ${hole}`);
          const alembicBefore = await db.rows('SELECT version_num FROM alembic_version');
          const c = await runCli(['check', '--url', db.url]);
          assert.equal(
            [c.code, c.stdout],
            [
              16,
              `history gap: no row for version ${hole} below the recorded level ${at}; glance-db repair --dry-run --url ${db.url} shows the way out\n`,
            ],
          );
          const v = await runCli(['version', '--url', db.url]);
          assert.is(v.code, 16, v.stdout + v.stderr);
          assert.is(v.stdout, '');
          for (const args of [[], [String(LATEST)]]) {
            const r = await sync(db, args);
            assert.is(r.code, 16, r.stdout + r.stderr);
            assert.match(r.stderr, `has no complete row for version ${hole}, below its recorded level ${at}`);
            assert.not.match(r.stdout, 'applied');
          }
          assert.equal(await db.rows('SELECT version_num FROM alembic_version'), alembicBefore);
          assert.is(
            Number((await db.rows('SELECT count(*) AS n FROM glance_db_version'))[0].n),
            range(FIRST, at).length - 1,
          );
        }),
    );
  }

  s('a binary file in the last pending version stops sync before the first statement runs', () =>
    withDb(env, async (db) => {
      const file = versionFile(env.dialect, LATEST);
      const dir = makeProject({ [file]: 'CREATE TABLE x (id INTEGER);\0\0\0' });
      try {
        assert.is((await sync(db, ['44'], dir)).code, 0);
        const r = await sync(db, [], dir);
        assert.is(r.code, 3, r.stdout + r.stderr);
        assert.match(r.stderr, `${file} (version ${LATEST}) is a binary file, not SQL.`);
        assert.not.match(r.stdout, 'applied');
        assert.is((await runCli(['version', '--url', db.url], { cwd: dir })).stdout, '44\n');
        assert.is(Number((await db.rows('SELECT count(*) AS n FROM glance_db_version'))[0].n), 3);
      } finally {
        removeProject(dir);
      }
    }),
  );

  s(
    're-run every plan script: it runs once from the state it was planned for; again, or on another database, it refuses and changes nothing',
    () =>
      withTmp(async (dir) => {
        for (const from of [null, ...VERSIONS]) {
          await withDb(env, async (db) => {
            const label = `from ${from ?? 'empty'}`;
            if (from !== null) assert.is((await sync(db, [String(from)])).code, 0, label);
            if (from === 44) await db.exec(POPULATE_V44);
            const out = join(dir, `plan-${from}.sql`);
            const p = await runCli([
              'plan',
              '--dialect',
              env.dialect,
              ...(from === null ? [] : ['--from', String(from)]),
              '--output',
              out,
            ]);
            assert.is(p.code, 0, p.stderr);
            const first = db.runScript(out);
            assert.is(first.code, 0, `${label}: ${first.stderr}`);
            assert.match((await sync(db, [])).stdout, `already at version ${LATEST}; nothing to do`, label);
            assert.is((await runCli(['check', '--url', db.url])).code, 0, label);
            const state = async () => [
              await db.rows('SELECT version, kind, status, checksum FROM glance_db_version ORDER BY version'),
              await db.rows('SELECT id FROM images ORDER BY id'),
            ];
            const before = await state();
            if (from === 44) assert.is(before[1].length, Object.keys(EXPECTED_VISIBILITY).length);
            const again = db.runScript(out);
            if (from !== LATEST) {
              assert.is.not(again.code, 0, `${label}: a second run must fail`);
              assert.match(again.stderr, 'this script already ran', label);
            }
            assert.equal(await state(), before, label);
          });
        }
        await withDb(env, async (db) => {
          assert.is((await sync(db, ['47'])).code, 0);
          await db.exec(
            `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility, os_hidden) VALUES ('kept', 'kept', 'active', ${ts}, '0', 0, 0, '0', 'public', '0')`,
          );
          const out = join(dir, 'plan-44-on-47.sql');
          assert.is((await runCli(['plan', '--dialect', env.dialect, '--from', '44', '--output', out])).code, 0);
          const before = [
            await db.rows('SELECT version FROM glance_db_version ORDER BY version'),
            await db.rows('SELECT id FROM images ORDER BY id'),
          ];
          const wrong = db.runScript(out);
          assert.is.not(wrong.code, 0);
          assert.match(wrong.stderr, 'not at the state this script starts from');
          assert.equal(
            [
              await db.rows('SELECT version FROM glance_db_version ORDER BY version'),
              await db.rows('SELECT id FROM images ORDER BY id'),
            ],
            before,
          );
          assert.is((await runCli(['check', '--url', db.url])).code, 13);
        });
        await withDb(env, async (db) => {
          await db.loadReference(44);
          const out = join(dir, 'plan-empty-on-44.sql');
          assert.is((await runCli(['plan', '--dialect', env.dialect, '--output', out])).code, 0);
          const wrong = db.runScript(out);
          assert.is.not(wrong.code, 0);
          assert.match(wrong.stderr, 'not at the state this script starts from');
          assert.is(
            await db.rows('SELECT count(*) AS n FROM glance_db_version').then(
              () => 'present',
              () => 'absent',
            ),
            'absent',
          );
        });
      }),
  );

  if (rolling) rollingConformance(s, env);
  s.run();
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-script-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
