// Every schema form a real Glance produced (schema/variants.json,
// docs/variants.md), built here by SQL we write from the reference dumps:
// adopted, upgraded to the newest version, the schema the reference's or the recorded
// variant's, every image's visibility right. Then the operator's way past a
// real hand-made change (sync --accept-drift), the version table of the
// first release, MySQL character sets, and the rolling-upgrade half states.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { REVISION_FOR_VERSION } from '../src/glance/revisions.js';
import { EXPECTED_VISIBILITY, POPULATE_V44 } from './conformance.js';
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import {
  cli,
  extraVersion,
  LATEST,
  LATEST_REVISION,
  makeProject,
  NEXT,
  referenceSql,
  removeProject,
  ROOT,
  runCli,
  VERSIONS,
} from './helpers.js';

const IGNORE = { ignoreTables: ['alembic_version', 'migrate_version', 'glance_db_version', 'glance_db_version_lock'] };
const ts = "'2020-01-01 00:00:00'";

type VariantId =
  'sqlite-bigint-size' | 'legacy-born-sqlite' | 'legacy-born-mysql' | 'mysql-without-checks' | 'legacy-born-postgresql';

/** The differences from the reference that each variant leaves at the newest version when it was adopted at `at`. */
function leftAtLatest(id: VariantId, at: number): string[] {
  if (id === 'sqlite-bigint-size')
    return at < 45
      ? []
      : ['images.size: type is bigint, expected integer', 'images.virtual_size: type is bigint, expected integer'];
  if (id === 'legacy-born-sqlite') {
    return [
      'image_members: unexpected unique constraint (image_id, member)',
      'metadef_namespace_resource_types: unexpected unique constraint (resource_type_id, namespace_id)',
      'metadef_namespaces: missing check constraint CHECK (protected in(0, 1))',
      'metadef_resource_types: missing check constraint CHECK (protected in(0, 1))',
    ];
  }
  if (id === 'legacy-born-mysql') return ['images: missing check constraint CHECK (protected in (0,1))'];
  return [];
}

async function mysqlDropChecks(db: TestDb, where: string): Promise<void> {
  const checks = await db.rows(
    `SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS n FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ${where}`,
  );
  for (const c of checks) await db.exec(`ALTER TABLE \`${c.t}\` DROP CONSTRAINT \`${c.n}\``);
}

/** A Glance database at `version` in the form the variant names, with Glance's own bookkeeping. */
async function buildVariant(
  db: TestDb,
  dialect: DialectEnv['dialect'],
  id: VariantId,
  version: number,
  bookkeeping = true,
): Promise<void> {
  if (id === 'sqlite-bigint-size') {
    // Glance 12.0-27.x: add_images_tables.py declared BigInteger for size and virtual_size on every dialect.
    const sql = referenceSql(version, 'sqlite').replace(
      /CREATE TABLE (?:IF NOT EXISTS )?"?images"? \([\s\S]*?\n\);/,
      (t) => t.replace(/\bsize INTEGER\b/, 'size BIGINT').replace(/\bvirtual_size INTEGER\b/, 'virtual_size BIGINT'),
    );
    assert.match(sql, 'virtual_size BIGINT');
    await db.exec(sql);
  } else if (id === 'legacy-born-sqlite') {
    // sqlalchemy-migrate 037 (sqlite) and 042: no protected CHECKs, two unique constraints alembic never had.
    const sql = referenceSql(version, 'sqlite')
      .replace(/,\s*CHECK \(protected IN \(0, 1\)\)/g, '')
      .replace(
        'CONSTRAINT image_members_image_id_member_deleted_at_key UNIQUE',
        'UNIQUE (image_id, member),\n\tCONSTRAINT image_members_image_id_member_deleted_at_key UNIQUE',
      )
      .replace(
        'PRIMARY KEY (resource_type_id, namespace_id)',
        'PRIMARY KEY (resource_type_id, namespace_id),\n\tUNIQUE (resource_type_id, namespace_id)',
      );
    await db.exec(sql);
  } else {
    await db.loadReference(version);
    if (id === 'legacy-born-mysql')
      await mysqlDropChecks(db, "AND TABLE_NAME = 'images' AND CHECK_CLAUSE LIKE '%protected%'");
    if (id === 'mysql-without-checks') await mysqlDropChecks(db, '');
  }
  if (!bookkeeping) return;
  await db.exec(`INSERT INTO alembic_version (version_num) VALUES ('${REVISION_FOR_VERSION[version]}')`);
  if (id.startsWith('legacy-born')) {
    // Born under sqlalchemy-migrate: its table stays, at the last legacy number.
    await db.exec(
      'CREATE TABLE migrate_version (repository_id VARCHAR(250) NOT NULL PRIMARY KEY, repository_path TEXT, version INTEGER)',
    );
    await db.exec(
      "INSERT INTO migrate_version VALUES ('Glance Migrations', '/usr/lib/python2.7/dist-packages/glance/db/sqlalchemy/migrate_repo', 42)",
    );
  }
}

const laterImages = [
  `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility) VALUES ('kept-shared', 'a', 'active', ${ts}, '0', 0, 0, '0', 'shared')`,
  `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility) VALUES ('kept-community', 'b', 'active', ${ts}, '1', 0, 0, '0', 'community')`,
].join(';\n');

const VARIANTS: Record<DialectEnv['dialect'], VariantId[]> = {
  sqlite: ['sqlite-bigint-size', 'legacy-born-sqlite'],
  mysql: ['legacy-born-mysql', 'mysql-without-checks'],
  postgresql: ['legacy-born-postgresql'],
};

/** What ocata_expand01 leaves (our SQL, after Glance's): visibility nullable without default, is_public nullable, MySQL's triggers. */
function ocataExpand(dialect: DialectEnv['dialect']): string {
  if (dialect === 'postgresql') {
    return `CREATE TYPE image_visibility AS ENUM ('private', 'public', 'shared', 'community');
ALTER TABLE images ADD COLUMN visibility image_visibility;
CREATE INDEX visibility_image_idx ON images (visibility);
ALTER TABLE images ALTER COLUMN is_public DROP NOT NULL;`;
  }
  if (dialect === 'mysql') {
    return `ALTER TABLE images ADD COLUMN visibility enum('private','public','shared','community') NULL, ADD INDEX visibility_image_idx (visibility), MODIFY is_public tinyint(1) NULL;
${glanceTriggers()}`;
  }
  // Glance's batch_alter_table copies images into a new table, which drops its CHECKs.
  return `CREATE TABLE images_expand (
	id VARCHAR(36) NOT NULL, name VARCHAR(255), size INTEGER, status VARCHAR(30) NOT NULL, is_public BOOLEAN,
	created_at DATETIME NOT NULL, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN NOT NULL,
	disk_format VARCHAR(20), container_format VARCHAR(20), checksum VARCHAR(32), owner VARCHAR(255),
	min_disk INTEGER NOT NULL, min_ram INTEGER NOT NULL, protected BOOLEAN DEFAULT (0) NOT NULL, virtual_size INTEGER,
	visibility VARCHAR(9),
	PRIMARY KEY (id)
);
INSERT INTO images_expand (id, name, size, status, is_public, created_at, updated_at, deleted_at, deleted, disk_format, container_format, checksum, owner, min_disk, min_ram, protected, virtual_size)
  SELECT id, name, size, status, is_public, created_at, updated_at, deleted_at, deleted, disk_format, container_format, checksum, owner, min_disk, min_ram, protected, virtual_size FROM images;
DROP TABLE images;
ALTER TABLE images_expand RENAME TO images;
CREATE INDEX checksum_image_idx ON images (checksum);
CREATE INDEX created_at_image_idx ON images (created_at);
CREATE INDEX ix_images_deleted ON images (deleted);
CREATE INDEX ix_images_is_public ON images (is_public);
CREATE INDEX owner_image_idx ON images (owner);
CREATE INDEX updated_at_image_idx ON images (updated_at);
CREATE INDEX visibility_image_idx ON images (visibility);`;
}

/**
 * ocata_expand01's two MySQL triggers, Glance's text (MYSQL_INSERT_TRIGGER,
 * MYSQL_UPDATE_TRIGGER), as 045's expand file holds it unchanged; wrapped
 * for the mariadb client, which needs another delimiter for BEGIN ... END.
 */
function glanceTriggers(): string {
  const file = readFileSync(join(ROOT, 'sql/mysql/045_add_visibility.expand.sql'), 'utf8');
  const triggers = [...file.matchAll(/^CREATE TRIGGER [\s\S]*?^END;/gm)].map((m) => m[0].replace(/;$/, ''));
  assert.is(triggers.length, 2);
  return `DELIMITER //\n${triggers.join('//\n')}//\nDELIMITER ;`;
}

/** A newer Glance's contract that failed half way (MySQL): is_public and its index gone, then the triggers. */
function isPublicDropped(dialect: DialectEnv['dialect']): string {
  if (dialect === 'mysql')
    return 'ALTER TABLE images DROP INDEX ix_images_is_public, DROP COLUMN is_public;\nDROP TRIGGER insert_visibility;\nDROP TRIGGER update_visibility;';
  if (dialect === 'postgresql') return 'ALTER TABLE images DROP COLUMN is_public;';
  return 'DROP INDEX ix_images_is_public;\nALTER TABLE images DROP COLUMN is_public;';
}

/** The later expand steps (rocky_expand01/02, wallaby_expand01, 2024_1_expand01) add what our 47, 48, 50, 51 add. */
function laterExpands(dialect: DialectEnv['dialect']): string {
  return [47, 48, 50, 51]
    .map((v) => {
      const file = readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8').match(
        new RegExp(`${dialect}: (sql/${dialect}/0${v}_\\w+\\.sql)`),
      )![1];
      return readFileSync(join(ROOT, file), 'utf8');
    })
    .join('\n');
}

export function variants(env: DialectEnv): void {
  const s = suite(`Glance's schema variants: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const sync = (db: TestDb, args: string[] = []) => runCli(['sync', ...args, '--url', db.url]);
  const visibility = async (db: TestDb) =>
    Object.fromEntries((await db.rows('SELECT id, visibility FROM images')).map((x) => [x.id, String(x.visibility)]));
  const referenceLatest = () => withDb(env, async (ref) => (await ref.loadReference(LATEST), ref.model()));
  const notes = async (db: TestDb) =>
    (await db.rows('SELECT version, note FROM glance_db_version WHERE note IS NOT NULL ORDER BY version')).map(
      (r) => `${r.version}:${r.note}`,
    );

  for (const id of VARIANTS[env.dialect]) {
    for (const at of [44, 50]) {
      s(
        `${id} at ${at}: adopted as that variant, upgraded to the newest version, visibility right, verify and check quiet`,
        () =>
          withDb(env, async (db) => {
            await buildVariant(db, env.dialect, id, at);
            await db.exec(at < 45 ? POPULATE_V44 : laterImages);
            const r = await sync(db);
            assert.is(r.code, 0, r.stderr + r.stdout);
            assert.match(r.stdout, `recorded versions 42-${at}`);
            const recorded = id === 'legacy-born-postgresql' ? [] : [`${at}:${JSON.stringify({ variant: id })}`];
            if (recorded.length) assert.match(r.stdout, `variant: the schema is a form Glance itself produced: ${id}`);
            assert.equal(await notes(db), recorded);
            const ref = await referenceLatest();
            // Born without CHECKs: every CHECK of the reference is missing, and stays missing.
            const left =
              id === 'mysql-without-checks'
                ? Object.values(ref.tables).flatMap((t) =>
                    t.checks.map((c) => `${t.name}: missing check constraint CHECK (${c})`),
                  )
                : leftAtLatest(id, at);
            assert.equal(diffSchemas(ref, await db.model(), IGNORE).sort(), left.sort());
            assert.equal(
              await visibility(db),
              at < 45 ? EXPECTED_VISIBILITY : { 'kept-shared': 'shared', 'kept-community': 'community' },
            );
            const verify = await runCli(['verify', '--url', db.url]);
            assert.is(verify.code, 0, verify.stdout);
            assert.is(verify.stdout.trim().split('\n').length, 1, verify.stdout);
            if (left.length)
              assert.match(verify.stdout, `schema matches version ${LATEST} as known Glance variant ${id}`);
            const check = await runCli(['check', '--url', db.url]);
            assert.is(check.code, 0, check.stdout);
            assert.is(check.stdout, `current: at version ${LATEST}\n`);
          }),
      );
    }
  }

  s('sync VERSION CURRENT_VERSION on a known variant without bookkeeping records it as that variant', () =>
    withDb(env, async (db) => {
      const id = VARIANTS[env.dialect][0];
      await buildVariant(db, env.dialect, id, 47, false);
      const r = await sync(db, [String(LATEST), '47']);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, 'baseline: recorded versions 42-47');
      if (id !== 'legacy-born-postgresql') assert.equal(await notes(db), [`47:${JSON.stringify({ variant: id })}`]);
      assert.is((await runCli(['check', '--url', db.url])).code, 0);
    }),
  );

  s(
    'repair judges a known variant as its version: a row deleted from a variant database is re-recorded, not refused',
    () =>
      withDb(env, async (db) => {
        const id = VARIANTS[env.dialect][0];
        await buildVariant(db, env.dialect, id, 47, false);
        assert.is((await sync(db, [String(LATEST), '47'])).code, 0);
        await db.exec('DELETE FROM glance_db_version WHERE version = 45');
        assert.is(cli(['check', '--url', db.url]).code, 16);
        const r = await runCli(['repair', '--url', db.url]);
        assert.is(r.code, 0, r.stderr);
        assert.match(r.stdout, 'record version 45 as baseline');
        assert.is((await runCli(['check', '--url', db.url])).code, 0);
      }),
  );

  s('a known variant with a hand-made change too is still refused, listing every difference', () =>
    withDb(env, async (db) => {
      await buildVariant(db, env.dialect, VARIANTS[env.dialect][0], 47);
      await db.exec('CREATE INDEX handmade_idx ON images (name)');
      const r = await sync(db);
      assert.is(r.code, 12, r.stderr);
      assert.match(r.stderr, 'images: unexpected index handmade_idx(name)');
      for (const d of leftAtLatest(VARIANTS[env.dialect][0], 47)) assert.match(r.stderr, d);
      assert.match(r.stderr, 'sync --accept-drift');
      assert.not.ok('glance_db_version' in (await db.model()).tables);
    }),
  );

  s(
    'sync --accept-drift takes over a hand-edited database, records the differences, and check stays quiet about exactly those',
    () =>
      withDb(env, async (db) => {
        await db.loadReference(47);
        await db.exec("INSERT INTO alembic_version (version_num) VALUES ('rocky_contract01')");
        await db.exec('CREATE INDEX handmade_idx ON images (name)');
        const r = await sync(db, ['--accept-drift']);
        assert.is(r.code, 0, r.stderr);
        assert.match(
          r.stdout,
          'drift accepted (--accept-drift), recorded in the version table: 1 difference(s)\n  images: unexpected index handmade_idx(name)',
        );
        const note = JSON.parse(
          String((await db.rows('SELECT note FROM glance_db_version WHERE version = 47'))[0].note),
        );
        assert.equal(note.acceptedDrift, ['images: unexpected index handmade_idx(name)']);
        assert.is((await runCli(['check', '--url', db.url])).code, 0);
        const verify = await runCli(['verify', '--url', db.url]);
        assert.is(verify.code, 0, verify.stdout);
        assert.match(
          verify.stdout,
          '1 difference(s) accepted with sync --accept-drift:\n  images: unexpected index handmade_idx(name)',
        );
        // Another change is drift again, and only it is listed.
        await db.exec('CREATE INDEX handmade2_idx ON images (owner)');
        const check = cli(['check', '--url', db.url, '--json']);
        assert.is(check.code, 12, check.stdout);
        assert.equal(
          JSON.parse(check.stdout).differences.map((d: { text: string }) => d.text),
          ['images: unexpected index handmade2_idx(owner)'],
        );
      }),
  );

  s(
    'issue 14.5: on a database glance-db manages, sync refuses on drift as check does, unless --accept-drift, which is recorded',
    () =>
      withDb(env, async (db) => {
        assert.is((await sync(db, ['48'])).code, 0);
        await db.exec('CREATE INDEX handmade_idx ON images (name)');
        assert.is((await runCli(['check', '--url', db.url])).code, 12);
        const refused = await sync(db);
        assert.is(refused.code, 12, refused.stdout + refused.stderr);
        assert.match(refused.stderr, 'images: unexpected index handmade_idx(name)');
        assert.match(refused.stderr, 'glance-db sync --accept-drift');
        assert.is((await runCli(['version', '--url', db.url])).stdout, '48\n');
        const r = await sync(db, ['--accept-drift', '--json']);
        assert.is(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).acceptedDrift, ['images: unexpected index handmade_idx(name)']);
        assert.is((await runCli(['version', '--url', db.url])).stdout, `${LATEST}\n`);
        const note = JSON.parse(
          String((await db.rows('SELECT note FROM glance_db_version WHERE version = 48'))[0].note),
        );
        assert.equal(note.acceptedDrift, ['images: unexpected index handmade_idx(name)']);
        assert.match(note.acceptedAt, 'sync --accept-drift');
        assert.is((await runCli(['check', '--url', db.url])).code, 0);
        assert.is((await sync(db)).code, 0);
      }),
  );

  s(
    `a version a site added (${NEXT}, no expected schema shipped) does not stop sync: the drift check needs an expected schema`,
    () =>
      withDb(env, async (db) => {
        const dir = makeProject(extraVersion(NEXT, 'add_thing', 'CREATE TABLE thing (id INTEGER);\n'));
        try {
          const first = await runCli(['sync', '--url', db.url], { cwd: dir });
          assert.is(first.code, 0, first.stderr);
          const again = await runCli(['sync', '--url', db.url], { cwd: dir });
          assert.is(again.code, 0, again.stderr);
          assert.match(again.stdout, `already at version ${NEXT}`);
        } finally {
          removeProject(dir);
        }
      }),
  );

  s('a version table made by the first release (no note column) still reads, and sync adds the column', () =>
    withDb(env, async (db) => {
      assert.is((await sync(db, ['48'])).code, 0);
      await db.exec('ALTER TABLE glance_db_version DROP COLUMN note');
      assert.is((await runCli(['version', '--url', db.url])).stdout, '48\n');
      assert.is((await runCli(['check', '--url', db.url])).code, 13);
      const r = await sync(db);
      assert.is(r.code, 0, r.stderr);
      const rows = await db.rows('SELECT version, note FROM glance_db_version ORDER BY version');
      assert.is(rows.length, VERSIONS.length);
      assert.ok(rows.every((x) => x.note === null));
    }),
  );

  if (env.dialect === 'mysql') {
    s('verify and check report a changed column or table character set or collation (MySQL)', () =>
      withDb(env, async (db) => {
        assert.is((await sync(db)).code, 0);
        await db.exec(
          'ALTER TABLE images MODIFY name varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL',
        );
        const column = await runCli(['verify', '--url', db.url]);
        assert.is(column.code, 12, column.stdout);
        assert.match(
          column.stdout,
          'images.name: character set/collation is utf8mb4_general_ci, expected utf8mb3_general_ci',
        );
        await db.exec(
          'ALTER TABLE images MODIFY name varchar(255) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci NULL',
        );
        assert.is((await runCli(['verify', '--url', db.url])).code, 0);
        await db.exec('ALTER TABLE image_tags DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci');
        const table = await runCli(['check', '--url', db.url, '--json']);
        assert.is(table.code, 12, table.stdout);
        assert.equal(JSON.parse(table.stdout).differences, [
          {
            kind: 'table-option',
            table: 'image_tags',
            object: 'collation',
            expected: 'utf8mb3_general_ci',
            actual: 'utf8mb4_general_ci',
            text: 'image_tags: collation is utf8mb4_general_ci, expected utf8mb3_general_ci',
          },
        ]);
      }),
    );
  }

  // Rolling upgrades stopped half way, whoever left them: Ocata's expand
  // alone; the same after a newer Glance's contract dropped is_public; and
  // every later expand step too (2024_1_expand01 with the contract at mitaka02).
  const halfStates: [string, string[], (d: DialectEnv['dialect']) => string, Record<string, string>][] = [
    ['ocata_expand01 + mitaka02', ['ocata_expand01', 'mitaka02'], () => '', {}],
    [
      'ocata_expand01 + mitaka02, is_public dropped by a failed contract',
      ['ocata_expand01', 'mitaka02'],
      isPublicDropped,
      // The public flag went with is_public: Glance's rule from what is left.
      { public: 'private', 'deleted-public': 'private', 'public-with-member': 'shared' },
    ],
    ['2024_1_expand01 + mitaka02', ['2024_1_expand01', 'mitaka02'], laterExpands, {}],
  ];
  for (const [label, revisions, after, lost] of halfStates) {
    s(
      `a rolling upgrade stopped half way (${label}) is finished by sync: schema of the newest version, visibility by Glance's rule`,
      () =>
        withDb(env, async (db) => {
          await db.loadReference(44);
          await db.exec(POPULATE_V44);
          await db.exec(ocataExpand(env.dialect));
          // The new release wrote visibility itself while the old one still ran; a private image with a live member stays private (issue 32).
          await db.exec(
            `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility) VALUES ('new-community', 'n', 'active', ${ts}, '0', 0, 0, '0', 'community'), ('new-private', 'p', 'active', ${ts}, '0', 0, 0, '0', 'private')`,
          );
          await db.exec(
            `INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status) VALUES ('new-private', 'tenant-x', '0', ${ts}, '0', 'accepted')`,
          );
          const more = after(env.dialect);
          if (more) await db.exec(more);
          for (const r of revisions) await db.exec(`INSERT INTO alembic_version (version_num) VALUES ('${r}')`);
          const r = await sync(db);
          assert.is(r.code, 0, r.stderr + r.stdout);
          assert.match(r.stdout, 'recorded versions 42-44');
          assert.match(r.stdout, 'applied 45 add_visibility');
          assert.equal(diffSchemas(await referenceLatest(), await db.model(), IGNORE), []);
          assert.equal(await visibility(db), {
            ...EXPECTED_VISIBILITY,
            'new-community': 'community',
            'new-private': 'private',
            ...lost,
          });
          assert.equal(
            (await db.rows('SELECT version_num FROM alembic_version')).map((x) => String(x.version_num)),
            [LATEST_REVISION],
          );
          const kinds = (await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version')).map(
            (x) => `${x.version}:${x.kind}`,
          );
          const inPlace = revisions[0] === '2024_1_expand01' ? [47, 48, 50, 51] : [];
          assert.equal(
            kinds,
            VERSIONS.map((v) => `${v}:${v <= 44 || inPlace.includes(v) ? 'adopted' : 'applied'}`),
          );
          assert.is((await runCli(['check', '--url', db.url])).code, 0);
          assert.is((await runCli(['verify', '--url', db.url])).stdout, `schema matches version ${LATEST}\n`);
        }),
    );
  }

  s(
    'a rolling upgrade stopped at 2024_1_expand01 + mitaka02 finished in two runs (sync 45, then sync) keeps its expand head until the end and ends at the newest version',
    () =>
      withDb(env, async (db) => {
        await db.loadReference(44);
        await db.exec(POPULATE_V44);
        await db.exec(ocataExpand(env.dialect));
        await db.exec(laterExpands(env.dialect));
        await db.exec("INSERT INTO alembic_version (version_num) VALUES ('2024_1_expand01'), ('mitaka02')");
        const first = await sync(db, ['45']);
        assert.is(first.code, 0, first.stderr);
        assert.equal(
          (await db.rows('SELECT version_num FROM alembic_version')).map((x) => String(x.version_num)).sort(),
          ['2024_1_expand01', 'ocata_contract01'],
        );
        const check = await runCli(['check', '--url', db.url]);
        assert.is(check.code, 13, check.stdout);
        assert.match(check.stdout, `glance-db sync --url ${db.url} finishes it`);
        const second = await sync(db);
        assert.is(second.code, 0, second.stderr);
        assert.equal(diffSchemas(await referenceLatest(), await db.model(), IGNORE), []);
        assert.equal(await visibility(db), EXPECTED_VISIBILITY);
        const kinds = (await db.rows('SELECT version, kind FROM glance_db_version ORDER BY version')).map(
          (x) => `${x.version}:${x.kind}`,
        );
        assert.equal(
          kinds,
          VERSIONS.map((v) => `${v}:${v <= 44 || [47, 48, 50, 51].includes(v) ? 'adopted' : 'applied'}`),
        );
        assert.equal(
          (await db.rows('SELECT version_num FROM alembic_version')).map((x) => String(x.version_num)),
          [LATEST_REVISION],
        );
        assert.is((await runCli(['check', '--url', db.url])).code, 0);
      }),
  );

  s(
    'a half-way Ocata state with a hand-made change is refused with the differences of the live schema, not a fixed text',
    () =>
      withDb(env, async (db) => {
        await db.loadReference(44);
        await db.exec(ocataExpand(env.dialect));
        await db.exec(isPublicDropped(env.dialect));
        await db.exec('CREATE INDEX handmade_idx ON images (name)');
        await db.exec("INSERT INTO alembic_version (version_num) VALUES ('ocata_expand01'), ('mitaka02')");
        const r = await sync(db);
        assert.is(r.code, 12, r.stderr);
        assert.match(r.stderr, 'images: unexpected index handmade_idx(name)');
        assert.not.match(r.stderr, 'is_public is still present');
        assert.not.match(r.stderr, 'is_public');
        assert.not.ok('glance_db_version' in (await db.model()).tables);
      }),
  );

  s.run();
}
