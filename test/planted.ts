// Issue 32, items 5 and 10: what verify and check used to be blind to, and
// what --accept-drift used to accept.
// - Planted on a database at the newest version, each of the issue's
//   examples (a trigger that rejects every image insert, a foreign key
//   changed to ON DELETE CASCADE, ix_images_deleted rebuilt WHERE false, a
//   view, a function or procedure; on PostgreSQL a rule and a policy, on
//   MySQL a scheduled event) makes verify exit 12 naming it, and check 12.
// - A rolling upgrade's own triggers (and PostgreSQL functions) pass while
//   its contract is pending; after contract a leftover one is drift.
// - sync --accept-drift refuses a difference a version still to run depends
//   on (the dropped ix_images_is_public that 45 drops), naming the version
//   and the object, recording and changing nothing; unrelated drift is
//   still accepted.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { splitStatements } from '../src/core/sql/split.js';
import { withDb, withDbAtLatest, type DialectEnv, type TestDb } from './dialects.js';
import { cli, extraVersion, LATEST, makeProject, NEXT, removeProject, ROOT, runCli } from './helpers.js';

type Dialect = DialectEnv['dialect'];

interface Plant {
  what: string;
  sql: (d: Dialect, db: TestDb) => Promise<string>;
  /** What verify prints for it. */
  shows: string | RegExp;
  /** The kinds of the differences it makes, in verify's order. */
  kinds: string[];
}

/** The mariadb client needs another delimiter around a body with semicolons. */
const delimited = (stmts: string[]) => `DELIMITER //\n${stmts.join('//\n')}//\nDELIMITER ;`;

/** image_tags again, its foreign key to images now ON DELETE CASCADE (SQLite cannot alter a foreign key: the table is rebuilt). */
async function cascadeSql(d: Dialect, db: TestDb): Promise<string> {
  if (d === 'postgresql') {
    const [fk] = await db.rows(
      "SELECT conname FROM pg_constraint WHERE conrelid = 'image_tags'::regclass AND contype = 'f'",
    );
    return `ALTER TABLE image_tags DROP CONSTRAINT ${fk.conname}; ALTER TABLE image_tags ADD FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE;`;
  }
  if (d === 'mysql') {
    const [fk] = await db.rows(
      "SELECT CONSTRAINT_NAME AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'image_tags'",
    );
    return `ALTER TABLE image_tags DROP FOREIGN KEY ${fk.n}; ALTER TABLE image_tags ADD FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE;`;
  }
  const [t] = await db.rows("SELECT sql FROM sqlite_master WHERE name = 'image_tags'");
  const indexes = (
    await db.rows("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'image_tags' AND sql IS NOT NULL")
  ).map((r) => `${r.sql};`);
  const create = String(t.sql)
    .replace(/CREATE TABLE "?image_tags"?/, 'CREATE TABLE image_tags_new')
    .replace(/REFERENCES images \(id\)/, 'REFERENCES images (id) ON DELETE CASCADE');
  assert.match(create, 'ON DELETE CASCADE');
  return `${create}; INSERT INTO image_tags_new SELECT * FROM image_tags; DROP TABLE image_tags; ALTER TABLE image_tags_new RENAME TO image_tags; ${indexes.join(' ')}`;
}

const PLANTS: Record<Dialect, Plant[]> = {
  sqlite: [
    {
      what: 'a trigger that rejects every image insert',
      kinds: ['unexpected-trigger'],
      shows: /images: unexpected trigger reject_images BEFORE INSERT \(definition [0-9a-f]{16}\)/,
      sql: async () => "CREATE TRIGGER reject_images BEFORE INSERT ON images BEGIN SELECT RAISE(ABORT, 'no'); END;",
    },
    {
      what: 'a foreign key changed to ON DELETE CASCADE',
      kinds: ['foreign-key-action'],
      shows:
        'image_tags: foreign key (image_id) -> images(id) is ON DELETE CASCADE ON UPDATE NO ACTION, expected ON DELETE NO ACTION ON UPDATE NO ACTION',
      sql: cascadeSql,
    },
    {
      what: 'ix_images_deleted rebuilt WHERE false',
      kinds: ['index-predicate'],
      shows: 'images: index ix_images_deleted(deleted) has predicate WHERE false, expected none',
      sql: async () => 'DROP INDEX ix_images_deleted; CREATE INDEX ix_images_deleted ON images (deleted) WHERE false;',
    },
    {
      what: 'a view',
      kinds: ['unexpected-view'],
      shows: /unexpected view public_images \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE VIEW public_images AS SELECT id FROM images;',
    },
    {
      what: 'an expression index',
      kinds: ['unexpected-index'],
      shows: 'images: unexpected index lower_name_idx(lower(name))',
      sql: async () => 'CREATE INDEX lower_name_idx ON images (lower(name));',
    },
  ],
  postgresql: [
    {
      what: 'a trigger that rejects every image insert (and its function)',
      kinds: ['unexpected-function', 'unexpected-trigger'],
      shows: /images: unexpected trigger reject_images BEFORE INSERT \(definition [0-9a-f]{16}\)/,
      sql: async () =>
        "CREATE FUNCTION reject_image() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$; CREATE TRIGGER reject_images BEFORE INSERT ON images FOR EACH ROW EXECUTE FUNCTION reject_image();",
    },
    {
      what: 'a foreign key changed to ON DELETE CASCADE',
      kinds: ['foreign-key-action'],
      shows:
        'image_tags: foreign key (image_id) -> images(id) is ON DELETE CASCADE ON UPDATE NO ACTION, expected ON DELETE NO ACTION ON UPDATE NO ACTION',
      sql: cascadeSql,
    },
    {
      what: 'ix_images_deleted rebuilt WHERE false',
      kinds: ['index-predicate'],
      shows: 'images: index ix_images_deleted(deleted) has predicate WHERE false, expected none',
      sql: async () => 'DROP INDEX ix_images_deleted; CREATE INDEX ix_images_deleted ON images (deleted) WHERE false;',
    },
    {
      what: 'a view',
      kinds: ['unexpected-view'],
      shows: /unexpected view public_images \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE VIEW public_images AS SELECT id FROM images;',
    },
    {
      what: 'a function',
      kinds: ['unexpected-function'],
      shows: /unexpected function purge_all\(\) \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE FUNCTION purge_all() RETURNS void LANGUAGE sql AS $$ DELETE FROM images $$;',
    },
    {
      what: 'a rule that swallows image inserts',
      kinds: ['unexpected-rule'],
      shows: /images: unexpected rule no_insert \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE RULE no_insert AS ON INSERT TO images DO INSTEAD NOTHING;',
    },
    {
      what: 'row-level security with a policy',
      kinds: ['table-option', 'unexpected-policy'],
      shows: /images: unexpected policy nobody PERMISSIVE FOR ALL \(definition [0-9a-f]{16}\)/,
      sql: async () => 'ALTER TABLE images ENABLE ROW LEVEL SECURITY; CREATE POLICY nobody ON images USING (false);',
    },
  ],
  mysql: [
    {
      what: 'a trigger that rejects every image insert',
      kinds: ['unexpected-trigger'],
      shows: /images: unexpected trigger reject_images BEFORE INSERT \(definition [0-9a-f]{16}\)/,
      sql: async () =>
        "CREATE TRIGGER reject_images BEFORE INSERT ON images FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no';",
    },
    {
      what: 'a foreign key changed to ON DELETE CASCADE',
      kinds: ['foreign-key-action'],
      shows:
        'image_tags: foreign key (image_id) -> images(id) is ON DELETE CASCADE ON UPDATE RESTRICT, expected ON DELETE RESTRICT ON UPDATE RESTRICT',
      sql: cascadeSql,
    },
    // MariaDB has no partial index (no WHERE on CREATE INDEX): nothing to plant for ix_images_deleted.
    {
      what: 'a view',
      kinds: ['unexpected-view'],
      shows: /unexpected view public_images \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE VIEW public_images AS SELECT id FROM images;',
    },
    {
      what: 'a procedure',
      kinds: ['unexpected-function'],
      shows: /unexpected procedure purge_all \(definition [0-9a-f]{16}\)/,
      sql: async () => delimited(['CREATE PROCEDURE purge_all() BEGIN DELETE FROM images; END']),
    },
    {
      what: 'a function',
      kinds: ['unexpected-function'],
      shows: /unexpected function one \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE FUNCTION one() RETURNS INT DETERMINISTIC RETURN 1;',
    },
    {
      what: 'a scheduled event',
      kinds: ['unexpected-event'],
      shows: /unexpected event purge_hourly EVERY 1 HOUR \(definition [0-9a-f]{16}\)/,
      sql: async () => 'CREATE EVENT purge_hourly ON SCHEDULE EVERY 1 HOUR DO DELETE FROM images;',
    },
  ],
};

/** The statements 045's expand file runs that create its triggers (and on PostgreSQL their functions), as the test client runs them. */
function expandTriggers(d: Dialect): string {
  const text = readFileSync(join(ROOT, 'sql', d, '045_add_visibility.expand.sql'), 'utf8');
  const stmts = splitStatements(text, d)
    .map((s) => s.text)
    .filter((s) => /^CREATE (TRIGGER|FUNCTION)/.test(s));
  assert.ok(stmts.length >= 2);
  return d === 'mysql' ? delimited(stmts) : `${stmts.join(';\n')};`;
}

/** A trigger on images that refuses every update: accepting it would make 45's fill fail. */
function rejectUpdates(d: Dialect): string {
  if (d === 'postgresql')
    return "CREATE FUNCTION no_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$; CREATE TRIGGER no_update BEFORE UPDATE ON images FOR EACH ROW EXECUTE FUNCTION no_update();";
  if (d === 'mysql')
    return "CREATE TRIGGER no_update BEFORE UPDATE ON images FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no';";
  return "CREATE TRIGGER no_update BEFORE UPDATE ON images BEGIN SELECT RAISE(ABORT, 'no'); END;";
}

const dropIsPublicIndex = (d: Dialect) =>
  d === 'mysql' ? 'ALTER TABLE images DROP INDEX ix_images_is_public;' : 'DROP INDEX ix_images_is_public;';

export function planted(env: DialectEnv): void {
  const s = suite(`issue 32: what verify, check and --accept-drift see: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const run = (db: TestDb, args: string[], cwd?: string) => runCli([...args, '--url', db.url], cwd ? { cwd } : {});
  // A real process, for the cases where the exit code and the stdout/stderr split are the contract.
  const real = (db: TestDb, args: string[]) => cli([...args, '--url', db.url]);
  const rows = async (db: TestDb) =>
    (await db.rows('SELECT version, status, note FROM glance_db_version ORDER BY version')).map(
      (r) => `${r.version}:${r.status}:${r.note ?? ''}`,
    );

  for (const p of PLANTS[env.dialect]) {
    s(`${p.what}, planted at ${LATEST}: verify exits 12 naming it (${p.kinds.join(', ')}), check exits 12`, () =>
      withDbAtLatest(env, async (db) => {
        assert.equal([(await run(db, ['verify'])).code, (await run(db, ['check'])).code], [0, 0]);
        await db.exec(await p.sql(env.dialect, db));
        const v = await run(db, ['verify']);
        assert.is(v.code, 12, v.stdout + v.stderr);
        assert.match(v.stdout, `schema drift at version ${LATEST}: ${p.kinds.length} difference(s)`);
        assert.match(v.stdout, p.shows);
        const j = JSON.parse((await run(db, ['verify', '--json'])).stdout) as { differences: { kind: string }[] };
        assert.equal(
          j.differences.map((x) => x.kind),
          p.kinds,
        );
        const c = await run(db, ['check']);
        assert.is(c.code, 12, c.stdout);
        assert.match(c.stdout, `schema drift at version ${LATEST}: ${p.kinds.length} difference(s)`);
      }),
    );
  }

  s(
    "a rolling upgrade: expand's own triggers pass verify and check until contract; a trigger planted meanwhile is drift; one left after contract is drift",
    () =>
      withDb(env, async (db) => {
        assert.is((await run(db, ['sync', '44'])).code, 0);
        assert.is((await run(db, ['expand'])).code, 0);
        const during = await run(db, ['verify']);
        assert.is(during.code, 0, during.stdout);
        assert.is(
          during.stdout,
          `schema matches version ${LATEST} as the rolling upgrade under way leaves it until the contract phase of 45, 46\n`,
        );
        const j = JSON.parse((await run(db, ['verify', '--json'])).stdout);
        assert.equal(j.comparedWith, {
          version: LATEST,
          rollingUpgrade: true,
          contractPending: [45, 46],
          allowedStates: ['ocata-expanded', 'artifacts-not-dropped'],
        });
        assert.is((await run(db, ['check'])).code, 13);
        await db.exec(rejectUpdates(env.dialect));
        const planted = real(db, ['verify']);
        assert.is(planted.code, 12, planted.stdout);
        assert.match(
          planted.stdout,
          `schema drift during the rolling upgrade to ${LATEST}: ${env.dialect === 'postgresql' ? 2 : 1} difference(s)`,
        );
        assert.match(planted.stdout, 'images: unexpected trigger no_update BEFORE UPDATE');
        const c = await run(db, ['check']);
        assert.is(c.code, 12, c.stdout);
        assert.match(c.stdout, `schema drift during the rolling upgrade to ${LATEST}`);
        await db.exec(
          env.dialect === 'postgresql'
            ? 'DROP TRIGGER no_update ON images; DROP FUNCTION no_update();'
            : 'DROP TRIGGER no_update;',
        );
        assert.is((await run(db, ['migrate'])).code, 0);
        assert.is((await run(db, ['verify'])).code, 0);
        assert.is((await run(db, ['contract'])).code, 0);
        assert.equal(
          [(await run(db, ['verify'])).stdout, (await run(db, ['check'])).code],
          [`schema matches version ${LATEST}\n`, 0],
        );
        // A contract that left 45's triggers behind (made again here, exactly as expand makes them; MySQL
        // checks the NEW.is_public they name when they are created, so is_public comes back for that moment,
        // as a contract that dropped the column and not the triggers would leave them).
        if (env.dialect === 'mysql')
          await db.exec(
            `ALTER TABLE images ADD COLUMN is_public tinyint(1) NULL;\n${expandTriggers(env.dialect)}\nALTER TABLE images DROP COLUMN is_public;`,
          );
        else await db.exec(expandTriggers(env.dialect));
        const left = await run(db, ['verify']);
        assert.is(left.code, 12, left.stdout);
        assert.match(left.stdout, /images: unexpected trigger insert_visibility (BEFORE|AFTER) INSERT/);
        assert.match(left.stdout, /images: unexpected trigger update_visibility (BEFORE|AFTER) UPDATE/);
        if (env.dialect === 'postgresql') assert.match(left.stdout, 'unexpected function insert_visibility()');
        assert.is((await run(db, ['check'])).code, 12);
      }),
  );

  s(
    'issue 32.10: sync --accept-drift refuses a dropped ix_images_is_public that 45 then needs (exit 12, nothing recorded, nothing changed); unrelated drift is still accepted',
    () =>
      withDb(env, async (db) => {
        assert.is((await run(db, ['sync', '44'])).code, 0);
        await db.exec(dropIsPublicIndex(env.dialect));
        const before = [await rows(db), await db.model()];
        const r = await run(db, ['sync', '--accept-drift']);
        assert.is(r.code, 12, r.stdout + r.stderr);
        assert.match(
          r.stderr,
          'images: missing index ix_images_is_public(is_public) (version 45 add_visibility: its expected schema changes images.ix_images_is_public)',
        );
        assert.match(r.stderr, 'Nothing was recorded and nothing was changed');
        assert.equal([await rows(db), await db.model()], before);
        assert.is((await run(db, ['version'])).stdout, '44\n');
        // As JSON: the refused difference, as an object.
        const j = JSON.parse((await run(db, ['sync', '--accept-drift', '--json'])).stdout);
        assert.equal(
          [j.error.code, j.error.differences.map((x: { object: string }) => x.object)],
          ['SCHEMA_DRIFT', ['ix_images_is_public']],
        );
        // A trigger that refuses updates of images: 45 updates every image.
        await db.exec(
          `${env.dialect === 'mysql' ? 'ALTER TABLE images ADD INDEX' : 'CREATE INDEX'} ix_images_is_public ${env.dialect === 'mysql' ? '' : 'ON images '}(is_public)`,
        );
        await db.exec(rejectUpdates(env.dialect));
        const t = await run(db, ['sync', '--accept-drift']);
        assert.is(t.code, 12, t.stdout + t.stderr);
        assert.match(
          t.stderr,
          /images: unexpected trigger no_update BEFORE UPDATE \(definition [0-9a-f]{16}\) \(version 45 add_visibility: /,
        );
        assert.is((await run(db, ['version'])).stdout, '44\n');
        await db.exec(
          env.dialect === 'postgresql'
            ? 'DROP TRIGGER no_update ON images; DROP FUNCTION no_update();'
            : 'DROP TRIGGER no_update;',
        );
        // An index on a table no version up to the newest touches: accepted, recorded, the upgrade runs.
        await db.exec('CREATE INDEX handmade_idx ON image_tags (value)');
        const ok = await run(db, ['sync', '--accept-drift']);
        assert.is(ok.code, 0, ok.stdout + ok.stderr);
        assert.match(ok.stdout, 'image_tags: unexpected index handmade_idx(value)');
        assert.is((await run(db, ['version'])).stdout, `${LATEST}\n`);
        assert.equal(
          JSON.parse(String((await db.rows('SELECT note FROM glance_db_version WHERE version = 44'))[0].note))
            .acceptedDrift,
          ['image_tags: unexpected index handmade_idx(value)'],
        );
        assert.is((await run(db, ['check'])).code, 0);
      }),
  );

  s(
    'issue 32.10 at take-over: --accept-drift on a Glance database without ix_images_is_public is refused before anything is recorded',
    () =>
      withDb(env, async (db) => {
        await db.loadReference(44);
        await db.exec("INSERT INTO alembic_version (version_num) VALUES ('mitaka02')");
        await db.exec(dropIsPublicIndex(env.dialect));
        const r = real(db, ['sync', '--accept-drift']);
        assert.is(r.code, 12, r.stdout + r.stderr);
        assert.match(r.stderr, 'images: missing index ix_images_is_public(is_public) (version 45 add_visibility: ');
        assert.not.ok('glance_db_version' in (await db.model()).tables);
        // Going only as far as 44, nothing pending depends on it: accepted.
        const at44 = await run(db, ['sync', '44', '--accept-drift']);
        assert.is(at44.code, 0, at44.stdout + at44.stderr);
        assert.match(at44.stdout, 'images: missing index ix_images_is_public(is_public)');
      }),
  );

  if (env.dialect === 'sqlite') {
    s(
      "a site's expected schema written before triggers were modelled: they are not compared, and verify and check say so; snapshot again and they are",
      () =>
        withDb(env, async (db) => {
          const dir = makeProject(
            extraVersion(NEXT, 'site_extra', 'CREATE TABLE site_extra (id INTEGER NOT NULL PRIMARY KEY);\n'),
          );
          try {
            assert.is((await runCli(['lint', '--update'], { cwd: dir })).code, 0);
            assert.is((await run(db, ['sync'], dir)).code, 0);
            assert.is((await runCli(['snapshot', `${NEXT}`], { cwd: dir })).code, 0);
            // The same file as an older glance-db wrote it: no objects, foreign keys without actions.
            const path = join(dir, 'schema', 'expected', 'sqlite', `v${NEXT}.json`);
            const model = JSON.parse(readFileSync(path, 'utf8'));
            delete model.objects;
            for (const t of Object.values(model.tables) as { foreignKeys: Record<string, unknown>[] }[])
              for (const f of t.foreignKeys) {
                delete f.onDelete;
                delete f.onUpdate;
              }
            writeFileSync(path, JSON.stringify(model));
            await db.exec("CREATE TRIGGER reject_images BEFORE INSERT ON images BEGIN SELECT RAISE(ABORT, 'no'); END;");
            const note = `triggers, functions, views, foreign-key actions and index predicates not compared: the expected schema of version ${NEXT} predates them (make it again with glance-db snapshot ${NEXT})`;
            assert.equal(
              [(await run(db, ['verify'], dir)).code, (await run(db, ['verify'], dir)).stdout],
              [0, `schema matches version ${NEXT}\n(${note})\n`],
            );
            assert.equal(JSON.parse((await run(db, ['verify', '--json'], dir)).stdout).notCompared, note);
            assert.equal(
              [(await run(db, ['check'], dir)).code, (await run(db, ['check'], dir)).stdout],
              [0, `current: at version ${NEXT} (${note})\n`],
            );
            rmSync(path);
            assert.is((await runCli(['snapshot', `${NEXT}`], { cwd: dir })).code, 0);
            assert.is((await run(db, ['verify'], dir)).code, 12);
            assert.is((await run(db, ['check'], dir)).code, 12);
          } finally {
            removeProject(dir);
          }
        }),
    );
  }

  s.run();
}
