// metadefs load, diff, merge, export, reload and unload on a real database,
// the same on every dialect. The fixtures in test/fixtures/metadefs are our
// own; the expected rows are built here from the documents the way Glance's
// data model stores them (glance/db/sqlalchemy/metadata.py for the loader,
// glance/db/__init__.py MetadefObjectRepo for objects' required lists).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDb, withDbAtLatest, type DialectEnv, type TestDb } from './dialects.js';
import { cli, cliAsync, ROOT, runCli } from './helpers.js';
import { clientArgs, clientEnv } from './servers.js';
import { lockKeys } from '../src/dialects/postgresql/lock.js';
import { glanceBuilt } from './takeover.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures', 'metadefs');

type Doc = Record<string, any>;
const readDocs = (dir: string): Doc[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

const bool = (v: unknown) => (v === null || v === undefined ? null : v === true || v === 1 || v === '1');
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const byKey = <T extends Record<string, unknown>>(rows: T[]) =>
  [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** The metadef rows by natural key (no ids, no timestamps), JSON columns parsed. */
export async function metadefRows(db: TestDb) {
  const ns = await db.rows(
    'SELECT id, namespace, display_name, description, visibility, protected, owner, created_at FROM metadef_namespaces',
  );
  const nsName = new Map(ns.map((r) => [Number(r.id), String(r.namespace)]));
  const rt = await db.rows('SELECT id, name, protected, created_at FROM metadef_resource_types');
  const rtName = new Map(rt.map((r) => [Number(r.id), String(r.name)]));
  const n = (id: unknown) => nsName.get(Number(id));
  return {
    namespaces: byKey(
      ns.map((r) => ({
        namespace: r.namespace,
        display_name: str(r.display_name),
        description: str(r.description),
        visibility: str(r.visibility),
        protected: bool(r.protected),
        owner: r.owner,
        hasCreatedAt: r.created_at !== null,
      })),
    ),
    resourceTypes: byKey(
      rt.map((r) => ({ name: r.name, protected: bool(r.protected), hasCreatedAt: r.created_at !== null })),
    ),
    associations: byKey(
      (
        await db.rows(
          'SELECT namespace_id, resource_type_id, prefix, properties_target FROM metadef_namespace_resource_types',
        )
      ).map((r) => ({
        namespace: n(r.namespace_id),
        resource_type: rtName.get(Number(r.resource_type_id)),
        prefix: str(r.prefix),
        properties_target: str(r.properties_target),
      })),
    ),
    properties: byKey(
      (await db.rows('SELECT namespace_id, name, json_schema FROM metadef_properties')).map((r) => ({
        namespace: n(r.namespace_id),
        name: r.name,
        json_schema: JSON.parse(String(r.json_schema)),
      })),
    ),
    objects: byKey(
      (await db.rows('SELECT namespace_id, name, description, required, json_schema FROM metadef_objects')).map(
        (r) => ({
          namespace: n(r.namespace_id),
          name: r.name,
          description: str(r.description),
          required: str(r.required),
          json_schema: JSON.parse(String(r.json_schema)),
        }),
      ),
    ),
    tags: byKey(
      (await db.rows('SELECT namespace_id, name FROM metadef_tags')).map((r) => ({
        namespace: n(r.namespace_id),
        name: r.name,
      })),
    ),
  };
}

/** What Glance's data model holds after loading these documents. */
export function expectedRows(docs: Doc[]) {
  const rtNames = new Set(docs.flatMap((d) => (d.resource_type_associations ?? []).map((a: Doc) => a.name)));
  return {
    namespaces: byKey(
      docs.map((d) => ({
        namespace: d.namespace,
        display_name: d.display_name ?? null,
        description: d.description ?? null,
        visibility: d.visibility ?? null,
        protected: d.protected ?? null,
        owner: d.owner ?? 'admin',
        hasCreatedAt: true,
      })),
    ),
    // glance-manage creates missing resource types protected.
    resourceTypes: byKey([...rtNames].map((name) => ({ name, protected: true, hasCreatedAt: true }))),
    associations: byKey(
      docs.flatMap((d) =>
        (d.resource_type_associations ?? []).map((a: Doc) => ({
          namespace: d.namespace,
          resource_type: a.name,
          prefix: a.prefix ?? null,
          properties_target: a.properties_target ?? null,
        })),
      ),
    ),
    properties: byKey(
      docs.flatMap((d) =>
        Object.entries(d.properties ?? {}).map(([name, schema]) => ({
          namespace: d.namespace,
          name,
          json_schema: schema,
        })),
      ),
    ),
    // MetadefObjectRepo: required comma-joined, NULL when empty; json_schema is the properties.
    objects: byKey(
      docs.flatMap((d) =>
        (d.objects ?? []).map((o: Doc) => ({
          namespace: d.namespace,
          name: o.name,
          description: o.description ?? null,
          required: o.required?.length ? o.required.join(',') : null,
          json_schema: o.properties ?? {},
        })),
      ),
    ),
    tags: byKey(docs.flatMap((d) => (d.tags ?? []).map((t: Doc) => ({ namespace: d.namespace, name: t.name })))),
  };
}

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `glance-db-${prefix}-`));
/** {"a": {"a": ... 1 ...}}, n objects deep. */
const deepJson = (n: number) => `${'{"a": '.repeat(n)}1${'}'.repeat(n)}`;

/** The fixtures, changed the way a newer Glance release changes its definitions. */
function version2(dir: string): void {
  cpSync(FIXTURES, dir, { recursive: true });
  const file = join(dir, 'acme-image.json');
  const d = JSON.parse(readFileSync(file, 'utf8'));
  d.description = 'Changed in version 2.';
  d.properties.cores.maximum = 512;
  d.properties.boot.properties.menu.properties.visible = { type: 'string' };
  d.properties.arch = { title: 'Architecture', type: 'string', enum: ['x86_64', 'aarch64'] };
  d.resource_type_associations[1].prefix = 'acme2_';
  d.objects[0].required = ['acme_firmware'];
  d.objects.push({
    name: 'Storage',
    required: ['acme_pool'],
    properties: { acme_pool: { title: 'Pool', type: 'string' } },
  });
  d.tags = d.tags.filter((t: Doc) => t.name !== 'x86_64').concat([{ name: 'aarch64' }]);
  writeFileSync(file, JSON.stringify(d, null, 2));
}

export function metadefsSuite(env: DialectEnv): void {
  const s = suite(`metadefs: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  // In process (runCli) for messages, exit codes and JSON; proc, a real process, where the exit code and the
  // stdout/stderr split are the contract.
  const run = (db: TestDb, args: string[]) => runCli([...args, '--url', db.url]);
  const proc = (db: TestDb, args: string[]) => cli([...args, '--url', db.url]);
  const synced = async (db: TestDb) => assert.is((await run(db, ['sync'])).code, 0);

  s("load adds every fixture namespace; the rows are what Glance's data model expects, column by column", () =>
    withDbAtLatest(env, async (db) => {
      const r = proc(db, ['metadefs', 'load', FIXTURES]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, 'metadefs: 3 added, 0 updated, 0 unchanged, 0 skipped');
      assert.match(
        r.stdout,
        `added ACME::Image (${join(FIXTURES, 'acme-image.json')}): 4 properties, 2 objects, 3 tags, 2 resource types`,
      );
      assert.equal(await metadefRows(db), expectedRows(readDocs(FIXTURES)));
      // glance-manage's default: an existing namespace is skipped, nothing changes.
      const again = await run(db, ['db', 'load_metadefs', '--path', FIXTURES, '--json']);
      assert.is(again.code, 0, again.stderr);
      const j = JSON.parse(again.stdout);
      assert.equal(j.summary, { added: 0, updated: 0, unchanged: 0, skipped: 3 });
      assert.is(j.command, 'metadefs:load');
    }),
  );

  s(
    'diff shows what --merge would change; --merge adds only what is new, --prefer-new updates, --overwrite removes what the file dropped',
    () =>
      withDbAtLatest(env, async (db) => {
        assert.is((await run(db, ['metadefs', 'load', FIXTURES])).code, 0);
        const v2 = tmp('metadefs-v2');
        try {
          version2(v2);
          const before = await metadefRows(db);
          const d = await run(db, ['metadefs', 'diff', v2, '--json']);
          assert.is(d.code, 0, d.stderr);
          const plan = JSON.parse(d.stdout);
          assert.equal(plan.summary, { added: 0, updated: 1, unchanged: 2, skipped: 0 });
          const img = plan.namespaces.find((n: Doc) => n.namespace === 'ACME::Image');
          const act = (a: string) =>
            img.changes
              .filter((c: Doc) => c.action === a)
              .map((c: Doc) => `${c.kind} ${c.name}${c.fields ? ` (${c.fields.join(',')})` : ''}`)
              .sort();
          assert.equal(act('add'), ['object Storage', 'property arch', 'tag aarch64']);
          assert.equal(act('keep'), [
            'namespace ACME::Image (description)',
            'object Secure Boot (required)',
            'property boot (json_schema)',
            'property cores (json_schema)',
            'resource_type_association OS::Cinder::Volume (prefix)',
          ]);
          assert.equal(act('extra'), ['tag x86_64']);
          assert.equal(await metadefRows(db), before, 'diff changed nothing');
          const text = (await run(db, ['metadefs', 'diff', v2])).stdout;
          assert.match(text, 'would update ACME::Image');
          assert.match(text, '  + property arch');
          assert.match(
            text,
            "  ! property cores differs from the file (json_schema); kept (--prefer-new takes the file's)",
          );

          // --merge: exactly the additions.
          const m = await run(db, ['metadefs', 'load', v2, '--merge']);
          assert.is(m.code, 0, m.stderr);
          assert.match(m.stdout, 'metadefs: 0 added, 1 updated, 2 unchanged, 0 skipped');
          const merged = await metadefRows(db);
          const v2docs = readDocs(v2);
          assert.equal(merged.properties.find((p) => p.name === 'arch')!.json_schema, v2docs[1].properties.arch);
          assert.equal(
            merged.properties.find((p) => p.name === 'cores')!.json_schema.maximum,
            256,
            'kept without --prefer-new',
          );
          assert.ok(merged.tags.some((t) => t.name === 'x86_64') && merged.tags.some((t) => t.name === 'aarch64'));
          assert.is(
            JSON.parse((await run(db, ['metadefs', 'diff', v2, '--json'])).stdout).summary.updated,
            0,
            'after --merge nothing is left to add',
          );

          // --prefer-new: the file wins where they differ; extras stay.
          const p = await run(db, ['metadefs', 'load', v2, '--merge', '--prefer_new']);
          assert.is(p.code, 0, p.stderr);
          const pn = await metadefRows(db);
          const exp = expectedRows(v2docs);
          assert.equal(pn.properties, exp.properties);
          assert.equal(pn.objects, exp.objects);
          assert.equal(pn.associations, exp.associations);
          assert.equal(pn.namespaces, exp.namespaces);
          assert.ok(
            pn.tags.some((t) => t.name === 'x86_64'),
            'an item only in the database stays with --prefer-new',
          );
          assert.equal(JSON.parse((await run(db, ['metadefs', 'diff', v2, '--prefer-new', '--json'])).stdout).summary, {
            added: 0,
            updated: 0,
            unchanged: 3,
            skipped: 0,
          });

          // --overwrite: the namespace becomes the file's, the extra tag goes.
          const o = await run(db, ['metadefs', 'load', v2, '--merge', '--overwrite']);
          assert.is(o.code, 0, o.stderr);
          assert.match(o.stdout, '  - tag x86_64');
          assert.equal(await metadefRows(db), exp);
        } finally {
          rmSync(v2, { recursive: true, force: true });
        }
      }),
  );

  s('export writes files that load reads back into the same rows; a second export is byte for byte the same', () =>
    withDbAtLatest(env, async (db) => {
      assert.is((await run(db, ['metadefs', 'load', FIXTURES])).code, 0);
      const out1 = tmp('metadefs-export');
      const out2 = tmp('metadefs-export');
      try {
        const e = await run(db, ['db', 'export_metadefs', out1]);
        assert.is(e.code, 0, e.stderr);
        // glance-manage's names: the display name's letters and digits.
        assert.equal(readdirSync(out1).sort(), [
          'ACMEFlavorLimits.json',
          'ACMEImageProperties.json',
          'ACMEminimalnovisibilitynoprotected.json',
        ]);
        const rows = await metadefRows(db);
        assert.is((await run(db, ['metadefs', 'unload', '--yes'])).code, 0);
        const r = await run(db, ['metadefs', 'load', out1]);
        assert.is(r.code, 0, r.stderr);
        assert.equal(await metadefRows(db), rows);
        assert.equal(
          JSON.parse((await run(db, ['metadefs', 'diff', out1, '--overwrite', '--json'])).stdout).summary.unchanged,
          3,
        );
        assert.is((await run(db, ['metadefs', 'export', out2])).code, 0);
        for (const f of readdirSync(out1))
          assert.is(readFileSync(join(out2, f), 'utf8'), readFileSync(join(out1, f), 'utf8'), f);
      } finally {
        rmSync(out1, { recursive: true, force: true });
        rmSync(out2, { recursive: true, force: true });
      }
    }),
  );

  s(
    'an invalid, unreadable or missing document: exit 28 naming file, line and path; nothing loaded, not even the valid files',
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-bad');
        try {
          cpSync(FIXTURES, dir, { recursive: true });
          writeFileSync(
            join(dir, 'zz-bad-schema.json'),
            '{\n  "namespace": "Bad::One",\n  "objects": [\n    { "name": 7 }\n  ],\n  "tags": [{ "name": "a" }, { "name": "a" }]\n}\n',
          );
          writeFileSync(join(dir, 'zz-broken.json'), '{\n  "namespace": "Bad::Two",\n  "tags": [\n}\n');
          const r = proc(db, ['metadefs', 'load', dir]);
          assert.is(r.code, 28, r.stderr);
          assert.match(r.stderr, `${join(dir, 'zz-bad-schema.json')}:4: objects[0].name: must be string`);
          assert.match(r.stderr, `${join(dir, 'zz-broken.json')}:4: invalid JSON`);
          assert.not.match(r.stderr, 'at Object.');
          assert.is((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n == 0, true, 'nothing loaded');
          rmSync(join(dir, 'zz-broken.json'));
          writeFileSync(
            join(dir, 'zz-bad-schema.json'),
            '{"namespace": "Bad::One", "tags": [{"name": "a"}, {"name": "a"}]}',
          );
          const dup = await run(db, ['metadefs', 'load', dir, '--json']);
          assert.is(dup.code, 28);
          const j = JSON.parse(dup.stdout);
          assert.is(j.error.code, 'METADEFS_INVALID');
          assert.equal(j.error.errors, [`${join(dir, 'zz-bad-schema.json')}:1: tags[1].name: tag "a" appears twice`]);
          const missing = await run(db, ['metadefs', 'load', join(dir, 'nope')]);
          assert.is(missing.code, 28);
          assert.match(missing.stderr, `error: The metadefs path ${join(dir, 'nope')} does not exist.`);
          const empty = tmp('metadefs-empty');
          const none = await run(db, ['metadefs', 'load', empty]);
          rmSync(empty, { recursive: true, force: true });
          assert.is(none.code, 28);
          assert.match(none.stderr, 'holds no .json files');
          assert.is(
            (await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n == 0,
            true,
            'still nothing loaded',
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  s(
    'a database error in the 3rd namespace: exit 29 naming it; the load is one transaction, so nothing at all is written',
    () =>
      withDbAtLatest(env, async (db) => {
        // A trigger refuses the third namespace's row, after the first two namespaces were written in full.
        await db.exec(
          {
            sqlite:
              "CREATE TRIGGER boom BEFORE INSERT ON metadef_namespaces WHEN NEW.namespace = 'ACME::Minimal' BEGIN SELECT RAISE(ABORT, 'namespace refused by test trigger'); END;",
            postgresql:
              "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.namespace = 'ACME::Minimal' THEN RAISE EXCEPTION 'namespace refused by test trigger'; END IF; RETURN NEW; END $$; CREATE TRIGGER boom BEFORE INSERT ON metadef_namespaces FOR EACH ROW EXECUTE FUNCTION boom();",
            mysql:
              "DELIMITER //\nCREATE TRIGGER boom BEFORE INSERT ON metadef_namespaces FOR EACH ROW BEGIN IF NEW.namespace = 'ACME::Minimal' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'namespace refused by test trigger'; END IF; END//\nDELIMITER ;",
          }[env.dialect],
        );
        const r = await run(db, ['metadefs', 'load', FIXTURES]);
        assert.is(r.code, 29, r.stderr);
        assert.match(
          r.stderr,
          `error: metadefs load failed at namespace ACME::Minimal from ${join(FIXTURES, 'acme-minimal.json')}`,
        );
        assert.match(r.stderr, 'namespace refused by test trigger');
        assert.match(r.stderr, 'nothing was written');
        assert.not.match(r.stdout, 'added', 'no namespace is reported loaded');
        for (const t of [
          'metadef_namespaces',
          'metadef_properties',
          'metadef_objects',
          'metadef_tags',
          'metadef_namespace_resource_types',
          'metadef_resource_types',
        ]) {
          assert.is(Number((await db.rows(`SELECT COUNT(*) AS n FROM ${t}`))[0].n), 0, t);
        }
      }),
  );

  s(
    'values the database cannot hold as written are refused before any write: exit 28, each with file, line and path; nothing written',
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-limits');
        try {
          cpSync(FIXTURES, dir, { recursive: true });
          // Sorted after the fixtures: a load that wrote as it went would have written those first.
          const bad: Doc = {
            namespace: 'Bad::Values',
            // An escape JSON allows but no text column holds: every dialect stored U+FFFD.
            display_name: 'lone \ud800 surrogate',
            description: { sqlite: 'fine', postgresql: 'a NUL \u0000 here', mysql: 'an emoji \u{1F600} here' }[
              env.dialect
            ],
            objects: [{ name: 'O', required: ['a,b'], properties: { a: { title: 'A', type: 'string' } } }],
            tags: [{ name: env.dialect === 'mysql' ? 'tag \u{1F680}' : 'fine' }],
            ...(env.dialect === 'mysql'
              ? { properties: { big: { title: 'Big', type: 'string', description: 'é'.repeat(33_000) } } }
              : {}),
          };
          writeFileSync(join(dir, 'zz-bad.json'), JSON.stringify(bad, null, 2));
          const r = await run(db, ['metadefs', 'load', dir, '--json']);
          assert.is(r.code, 28, r.stdout);
          const errors: string[] = JSON.parse(r.stdout).error.errors;
          const f = join(dir, 'zz-bad.json');
          const expected = [
            `${f}:3: display_name: an unpaired surrogate (\\ud800) at character 6 is not a character: every database would store U+FFFD in its place`,
            ...(env.dialect === 'postgresql'
              ? [`${f}:4: description: U+0000 (\\u0000) at character 7 cannot be stored in a postgresql text column`]
              : []),
            ...(env.dialect === 'mysql'
              ? [
                  `${f}:4: description: the character U+1F600 ("\u{1F600}") at character 10 is not in the character set of column metadef_namespaces.description (utf8mb3: no character beyond U+FFFF, such as an emoji)`,
                ]
              : []),
            ...(env.dialect === 'mysql'
              ? [
                  `${f}:25: properties.big: 66048 bytes of JSON, more than column metadef_properties.json_schema holds (mysql text: 65535 bytes)`,
                ]
              : []),
            `${f}:9: objects[0].required[0]: "a,b" holds a comma: Glance stores the required list comma-joined and would read it back as two names`,
            ...(env.dialect === 'mysql'
              ? [
                  `${f}:21: tags[0].name: the character U+1F680 ("\u{1F680}") at character 5 is not in the character set of column metadef_tags.name (utf8mb3: no character beyond U+FFFF, such as an emoji)`,
                ]
              : []),
          ];
          assert.equal(errors, expected);
          assert.is(
            Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n),
            0,
            'not even the valid fixtures',
          );
          // diff says the same, and changes nothing.
          assert.is((await run(db, ['metadefs', 'diff', dir])).code, 28);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  if (env.dialect !== 'sqlite') {
    s(
      'a column an older release made narrower is read from the database: a value longer than it is refused, not cut or failed half way',
      () =>
        withDbAtLatest(env, async (db) => {
          await db.exec(
            env.dialect === 'postgresql'
              ? 'ALTER TABLE metadef_namespaces ALTER COLUMN display_name TYPE varchar(20)'
              : 'ALTER TABLE metadef_namespaces MODIFY display_name varchar(20)',
          );
          const r = await run(db, ['metadefs', 'load', FIXTURES]);
          assert.is(r.code, 28, r.stderr);
          assert.match(
            r.stderr,
            /acme-image\.json:3: display_name: \d+ characters, more than column metadef_namespaces.display_name holds \((character )?varying\(20\)|varchar\(20\): 20\)/,
          );
          assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
        }),
    );
  }

  s('numbers are stored as the file wrote them: 2^53+1, 30 digits, 0.1 written long (JSON.parse changed each)', () =>
    withDbAtLatest(env, async (db) => {
      const dir = tmp('metadefs-numbers');
      try {
        const schema =
          '{"title": "N", "type": "integer", "maximum": 9007199254740993, "minimum": -123456789012345678901234567890, "default": 0.10000000000000000555, "enum": [1.0, 1e2, -0]}';
        writeFileSync(
          join(dir, 'n.json'),
          `{"namespace": "Num::Exact", "properties": {"n": ${schema}}, "objects": [{"name": "O", "properties": {"m": {"title": "M", "type": "number", "maximum": 1234567890123456789012345678.5}}}]}`,
        );
        const r = await run(db, ['metadefs', 'load', dir]);
        assert.is(r.code, 0, r.stderr);
        const stored = String(
          (await db.rows("SELECT json_schema FROM metadef_properties WHERE name = 'n'"))[0].json_schema,
        );
        assert.is(stored, schema.replace(/": /g, '":').replace(/, /g, ','), 'every number as the file wrote it');
        assert.match(
          String((await db.rows("SELECT json_schema FROM metadef_objects WHERE name = 'O'"))[0].json_schema),
          '"maximum":1234567890123456789012345678.5',
        );
        // Loaded again: the same values, so nothing to do.
        assert.equal(JSON.parse((await run(db, ['metadefs', 'diff', dir, '--prefer-new', '--json'])).stdout).summary, {
          added: 0,
          updated: 0,
          unchanged: 1,
          skipped: 0,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  s(
    'a number a double cannot hold at all (-1e999 was stored as null, 1e-400 as 0) is exit 28 with file, line and path; nothing written',
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-range');
        try {
          writeFileSync(
            join(dir, 'n.json'),
            '{\n  "namespace": "Num::Range",\n  "properties": {\n    "p": {"title": "P", "type": "number",\n      "minimum": -1e999, "maximum": 1e-400}\n  }\n}\n',
          );
          const range = await run(db, ['metadefs', 'load', dir]);
          assert.is(range.code, 28, range.stderr);
          assert.match(
            range.stderr,
            `${join(dir, 'n.json')}:5: properties.p.minimum: the number -1e999 is out of range`,
          );
          assert.match(
            range.stderr,
            `${join(dir, 'n.json')}:5: properties.p.maximum: the number 1e-400 is out of range`,
          );
          assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  s(
    'a file that is not UTF-8 is exit 28 naming the byte (it was stored with U+FFFD in place of the byte); nothing written',
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-utf8');
        try {
          writeFileSync(
            join(dir, 'n.json'),
            Buffer.concat([
              Buffer.from('{\n  "namespace": "Bad::Bytes",\n  "description": "caf'),
              Buffer.from([0xe9]),
              Buffer.from('"\n}\n'),
            ]),
          );
          const utf = await run(db, ['metadefs', 'load', dir]);
          assert.is(utf.code, 28, utf.stderr);
          assert.match(utf.stderr, `${join(dir, 'n.json')}:3: not UTF-8: byte 52 (0xe9)`);
          assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  s('5,000 levels deep is exit 28 naming the path (no stack overflow), for load and diff; nothing written', () =>
    withDbAtLatest(env, async (db) => {
      const dir = tmp('metadefs-deep');
      try {
        writeFileSync(
          join(dir, 'deep.json'),
          `{"namespace": "Deep::One", "properties": {"p": {"title": "P", "type": "object", "default": ${deepJson(5000)}}}}`,
        );
        for (const cmd of ['load', 'diff']) {
          const r = await run(db, ['metadefs', cmd, dir]);
          assert.is(r.code, 28, `${cmd}: ${r.stderr}`);
          assert.match(
            r.stderr,
            `${join(dir, 'deep.json')}:1: properties.p.default.a.a.a ... a.a.a (100 levels): nested more than 100 levels deep`,
          );
          assert.not.match(r.stderr, /internal|stack/i);
        }
        assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  );

  s(
    'a property 3,000 levels deep that an older release stored: diff and export work (diff was an internal error), export warns that it will not load back',
    () =>
      withDbAtLatest(env, async (db) => {
        const out = tmp('metadefs-deep-out');
        try {
          assert.is((await run(db, ['metadefs', 'load', FIXTURES])).code, 0);
          const stored = `{"title":"Cores","type":"integer","default":${deepJson(3000).replace(/ /g, '')}}`;
          await db.exec(`UPDATE metadef_properties SET json_schema = '${stored}' WHERE name = 'cores'`);
          const d = await run(db, ['metadefs', 'diff', FIXTURES, '--json']);
          assert.is(d.code, 0, d.stderr);
          const img = JSON.parse(d.stdout).namespaces.find((n: Doc) => n.namespace === 'ACME::Image');
          assert.equal(img.changes, [{ action: 'keep', kind: 'property', name: 'cores', fields: ['json_schema'] }]);
          const e = await run(db, ['metadefs', 'export', out]);
          assert.is(e.code, 0, e.stderr);
          assert.match(
            e.stderr,
            `warning: ${join(out, 'ACMEImageProperties.json')} (namespace ACME::Image) nests 3003 levels deep, more than the 100 metadefs load reads`,
          );
          const exported = JSON.parse(readFileSync(join(out, 'ACMEImageProperties.json'), 'utf8'));
          assert.is(JSON.stringify(exported.properties.cores), stored, 'the export holds what the database holds');
          const back = await run(db, ['metadefs', 'load', out, '--merge', '--overwrite']);
          assert.is(back.code, 28, back.stderr);
          // The file the warning names is the only one refused; the database is as it was.
          assert.match(back.stderr, 'ACMEImageProperties.json:');
          assert.not.match(back.stderr, 'ACMEFlavorLimits.json:');
        } finally {
          rmSync(out, { recursive: true, force: true });
        }
      }),
  );

  s(
    'round trip: export of deep (up to the limit), big-number and any-character values loads back into the same rows, byte for byte',
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-rt');
        const out1 = tmp('metadefs-rt-out');
        const out2 = tmp('metadefs-rt-out');
        try {
          // The document's own braces: 1 (document) + 1 (properties) + 1 (p) + 97 = 100.
          const deep = `${'['.repeat(96)}{"x": 12345678901234567890123}${']'.repeat(96)}`;
          const text = `{"namespace": "RT::One", "display_name": "Round trip", "description": "é ß ✓", "properties": {"p": {"title": "P \u{1F600} \\u0000 \\ud800", "type": "array", "maximum": 9007199254740993, "default": ${deep}}}}`;
          writeFileSync(join(dir, 'rt.json'), text);
          const r = await run(db, ['metadefs', 'load', dir]);
          assert.is(r.code, 0, r.stderr);
          const rows = await metadefRows(db);
          const raw = async () =>
            (await db.rows("SELECT json_schema FROM metadef_properties WHERE name = 'p'"))[0].json_schema;
          const first = await raw();
          assert.is((await run(db, ['metadefs', 'export', out1])).code, 0);
          const exported = readFileSync(join(out1, 'Roundtrip.json'), 'utf8');
          assert.match(exported, '"maximum": 9007199254740993');
          assert.match(exported, '12345678901234567890123');
          assert.is((await run(db, ['metadefs', 'unload', '--yes'])).code, 0);
          const back = await run(db, ['metadefs', 'load', out1]);
          assert.is(back.code, 0, back.stderr);
          assert.equal(await metadefRows(db), rows);
          assert.is(await raw(), first);
          assert.is((await run(db, ['metadefs', 'export', out2])).code, 0);
          assert.is(readFileSync(join(out2, 'Roundtrip.json'), 'utf8'), exported);
        } finally {
          for (const d of [dir, out1, out2]) rmSync(d, { recursive: true, force: true });
        }
      }),
  );

  s(
    'load and unload run at the same time, again and again: the end state is one of the two serial orders, and each summary is what its transaction did',
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-race');
        try {
          const n = 25;
          for (let i = 0; i < n; i++) {
            writeFileSync(
              join(dir, `ns${String(i).padStart(2, '0')}.json`),
              JSON.stringify({
                namespace: `Race::${i}`,
                resource_type_associations: [{ name: 'OS::Glance::Image' }, { name: `OS::Race::${i}` }],
                properties: Object.fromEntries(
                  Array.from({ length: 5 }, (_, k) => [`p${k}`, { title: `P${k}`, type: 'string' }]),
                ),
                tags: [{ name: 't' }],
              }),
            );
          }
          const count = async (t: string) => Number((await db.rows(`SELECT COUNT(*) AS c FROM ${t}`))[0].c);
          for (let round = 0; round < 6; round++) {
            const load = cliAsync(['metadefs', 'load', dir, '--json', '--url', db.url]);
            await new Promise((res) => setTimeout(res, round * 60));
            const unload = cliAsync(['metadefs', 'unload', '--yes', '--json', '--url', db.url]);
            const [l, u] = await Promise.all([load, unload]);
            assert.is(l.code, 0, `round ${round}: load: ${l.stdout}${l.stderr}`);
            assert.is(u.code, 0, `round ${round}: unload: ${u.stdout}${u.stderr}`);
            const lj = JSON.parse(l.stdout);
            const deleted = Object.fromEntries(JSON.parse(u.stdout).tables.map((t: Doc) => [t.table, t.rows]));
            assert.equal(lj.summary, { added: n, updated: 0, unchanged: 0, skipped: 0 }, `round ${round}`);
            const left = await count('metadef_namespaces');
            if (left === 0) {
              // Load, then unload: the unload removed exactly what the load added.
              assert.equal(
                deleted,
                {
                  metadef_properties: 5 * n,
                  metadef_objects: 0,
                  metadef_tags: n,
                  metadef_namespace_resource_types: 2 * n,
                  metadef_namespaces: n,
                  metadef_resource_types: n + 1,
                },
                `round ${round}`,
              );
              for (const t of [
                'metadef_properties',
                'metadef_tags',
                'metadef_namespace_resource_types',
                'metadef_resource_types',
              ])
                assert.is(await count(t), 0, `round ${round}: ${t}`);
            } else {
              // Unload, then load: nothing to remove, then everything loaded.
              assert.is(left, n, `round ${round}: ${left} namespaces left`);
              assert.equal(Object.values(deleted), [0, 0, 0, 0, 0, 0], `round ${round}`);
              assert.is(await count('metadef_properties'), 5 * n);
              assert.is(await count('metadef_namespace_resource_types'), 2 * n);
              assert.is((await run(db, ['metadefs', 'unload', '--yes'])).code, 0);
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  s(
    'usage: --prefer-new needs --merge, unload needs --yes (exit 2, nothing changed); a database nothing manages is refused (5)',
    () =>
      withDb(env, async (db) => {
        const none = await run(db, ['metadefs', 'load', FIXTURES]);
        assert.is(none.code, 5, none.stderr);
        await synced(db);
        assert.is((await run(db, ['metadefs', 'load', FIXTURES, '--prefer-new'])).code, 2);
        assert.is((await run(db, ['metadefs', 'load', FIXTURES, '--merge', '--prefer-new', '--overwrite'])).code, 2);
        assert.is((await run(db, ['metadefs', 'load', FIXTURES])).code, 0);
        const u = await run(db, ['metadefs', 'unload']);
        assert.is(u.code, 2);
        assert.match(u.stderr, 'hint: Run it again with --yes');
        assert.is((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n == 3, true);
        const y = await run(db, ['db', 'unload_metadefs', '--yes', '--json']);
        assert.is(y.code, 0, y.stderr);
        assert.equal(
          JSON.parse(y.stdout).tables.map((t: Doc) => t.rows),
          [4, 3, 4, 5, 3, 4],
        );
        for (const t of [
          'metadef_properties',
          'metadef_objects',
          'metadef_tags',
          'metadef_namespace_resource_types',
          'metadef_namespaces',
          'metadef_resource_types',
        ]) {
          assert.is(Number((await db.rows(`SELECT COUNT(*) AS n FROM ${t}`))[0].n), 0, t);
        }
      }),
  );

  /** What a data command must leave alone: every table's name, glance-db's version rows, alembic_version, the version. */
  const bookkeeping = async (db: TestDb) => {
    const tables = Object.keys((await db.model()).tables).sort();
    const alembic = tables.includes('alembic_version')
      ? (await db.rows('SELECT version_num FROM alembic_version ORDER BY version_num')).map((r) =>
          String(r.version_num),
        )
      : null;
    const versions = tables.includes('glance_db_version')
      ? (await db.rows('SELECT version, status FROM glance_db_version ORDER BY version')).map(
          (r) => `${r.version}:${r.status}`,
        )
      : null;
    return { tables, alembic, versions, version: (await run(db, ['version'])).stdout };
  };
  const files = (dir: string) =>
    Object.fromEntries(
      readdirSync(dir)
        .sort()
        .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
    );

  for (const kind of ['sync 50 (zed)', 'glance-manage (zed_contract01)'] as const) {
    s(
      `issue 28: on a database at ${kind}, metadefs load, diff, export (both formats), unload and a load of glance-manage's export work without changing its version or bookkeeping`,
      () =>
        withDb(env, async (db) => {
          if (kind.startsWith('sync')) assert.is((await run(db, ['sync', '50'])).code, 0);
          else await glanceBuilt(db, 50, ['zed_contract01']);
          const before = await bookkeeping(db);
          assert.is(before.version, '50\n');
          assert.is(before.tables.includes('glance_db_version'), kind.startsWith('sync'));
          const dir = tmp('metadefs-pinned');
          try {
            const l = await run(db, ['metadefs', 'load', FIXTURES]);
            assert.is(l.code, 0, l.stderr);
            assert.equal(await metadefRows(db), expectedRows(readDocs(FIXTURES)));
            const d = await run(db, ['metadefs', 'diff', FIXTURES, '--json']);
            assert.is(d.code, 0, d.stderr);
            assert.equal(JSON.parse(d.stdout).summary, { added: 0, updated: 0, unchanged: 3, skipped: 0 });
            assert.is((await run(db, ['metadefs', 'export', join(dir, 'glance-db')])).code, 0);
            const e = await run(db, [
              'metadefs',
              'export',
              '--format',
              'glance-manage',
              join(dir, 'glance-manage'),
              '--json',
            ]);
            assert.is(e.code, 0, e.stderr);
            assert.is(JSON.parse(e.stdout).format, 'glance-manage');
            // glance-manage's form: one line, every key, protected as the database returns it, no owner, no object's required.
            const gm = files(join(dir, 'glance-manage'));
            const flavor = JSON.parse(
              gm['ACMEflavorextraspecs.json'] ?? Object.values(gm).find((t) => t.includes('ACME::Flavor'))!,
            );
            assert.equal(Object.keys(flavor), [
              'namespace',
              'display_name',
              'description',
              'visibility',
              'protected',
              'resource_type_associations',
              'properties',
              'objects',
              'tags',
            ]);
            assert.is(flavor.protected, env.dialect === 'mysql' ? 0 : false);
            for (const text of Object.values(gm)) assert.not.match(text, '\n');
            const u = await run(db, ['metadefs', 'unload', '--yes']);
            assert.is(u.code, 0, u.stderr);
            assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
            // glance-manage's export loads (protected 1/0 on MySQL, nulls) into what glance-manage's own load gives: owner admin, no required.
            const back = await run(db, ['metadefs', 'load', join(dir, 'glance-manage')]);
            assert.is(back.code, 0, back.stderr);
            const lossy = readDocs(FIXTURES).map((doc) => ({
              ...doc,
              owner: undefined,
              objects: (doc.objects ?? []).map((o: Doc) => ({ ...o, required: undefined })),
            }));
            assert.equal(await metadefRows(db), expectedRows(lossy));
            // Round trip: the same bytes again.
            assert.is((await run(db, ['metadefs', 'export', '--format', 'glance-manage', join(dir, 'again')])).code, 0);
            assert.equal(files(join(dir, 'again')), gm);
            // glance-db's own format gives back everything.
            assert.is((await run(db, ['metadefs', 'load', join(dir, 'glance-db'), '--merge', '--overwrite'])).code, 0);
            assert.equal(await metadefRows(db), expectedRows(readDocs(FIXTURES)));
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
          assert.equal(
            await bookkeeping(db),
            before,
            'nothing but metadef rows changed: same tables, same version rows, same alembic_version',
          );
        }),
    );
  }

  s(
    "issue 28: glance-manage's export as it writes it (MariaDB: protected 1 and 0; nulls everywhere; its key order; one line) loads, and export --format glance-manage gives the same bytes back",
    () =>
      withDbAtLatest(env, async (db) => {
        const dir = tmp('metadefs-gm');
        try {
          const t = env.dialect === 'mysql' ? ['1', '0'] : ['true', 'false'];
          // Items by name (MySQL and SQLite return them by their unique index), as glance-manage's export lists them there.
          const a =
            `{"namespace": "OS::Test::A", "display_name": "Test A", "description": null, "visibility": "public", "protected": ${t[0]}, "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": null, "properties_target": null}, {"name": "OS::Cinder::Volume", "prefix": "t_", "properties_target": "image"}], ` +
            '"properties": {"a_float": {"title": "F", "type": "number", "minimum": 1e-05, "maximum": 1e+16, "default": 100.0}, "b_text": {"title": "Caf\\u00e9 \\ud83d\\ude00", "type": "string", "description": "a \\"quoted\\" line\\nand a tab\\t", "enum": ["x", "y"]}}, ' +
            '"objects": [{"name": "Empty", "description": null, "properties": null}, {"name": "Full", "description": "d", "properties": {"big": {"title": "B", "type": "integer", "maximum": 12345678901234567890}}}], "tags": [{"name": "alpha"}, {"name": "beta"}]}';
          const b = `{"namespace": "OS::Test::B", "display_name": "Test B", "description": "b", "visibility": "private", "protected": ${t[1]}, "resource_type_associations": [], "properties": {}, "objects": [], "tags": []}`;
          writeFileSync(join(dir, 'TestA.json'), a);
          writeFileSync(join(dir, 'TestB.json'), b);
          const l = await run(db, ['metadefs', 'load', dir]);
          assert.is(l.code, 0, l.stderr);
          const ns = await db.rows('SELECT namespace, protected FROM metadef_namespaces ORDER BY namespace');
          assert.equal(
            ns.map((r) => [r.namespace, bool(r.protected)]),
            [
              ['OS::Test::A', true],
              ['OS::Test::B', false],
            ],
          );
          const out = join(dir, 'out');
          const e = await run(db, ['metadefs', 'export', '--format', 'glance-manage', out]);
          assert.is(e.code, 0, e.stderr);
          // The one difference: an object's null properties are stored as none ({}), and glance-manage's export writes what is stored.
          assert.equal(files(out), {
            'TestA.json': a.replace('"properties": null', '"properties": {}'),
            'TestB.json': b,
          });
          const again = join(dir, 'again');
          assert.is((await run(db, ['metadefs', 'load', out, '--merge', '--overwrite'])).code, 0);
          assert.is((await run(db, ['metadefs', 'export', '--format', 'glance-manage', again])).code, 0);
          assert.equal(files(again), files(out), 'round trip: the same bytes');
          // The MySQL form loads on every dialect, and anything else than 1 or 0 is still refused.
          writeFileSync(join(dir, 'TestB.json'), b.replace(`"protected": ${t[1]}`, '"protected": 0'));
          assert.is((await run(db, ['metadefs', 'load', dir, '--merge', '--prefer-new'])).code, 0);
          writeFileSync(join(dir, 'TestB.json'), b.replace(`"protected": ${t[1]}`, '"protected": 2'));
          const bad = await run(db, ['metadefs', 'load', dir, '--merge', '--prefer-new']);
          assert.is(bad.code, 28, bad.stderr);
          assert.match(bad.stderr, 'TestB.json:1: protected');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
  );

  if (env.dialect === 'postgresql') {
    s(
      'PostgreSQL: a held migration lock makes load wait up to --lock-wait, then exit 8 naming the holder; nothing loaded',
      () =>
        withDbAtLatest(env, async (db) => {
          const [a, b] = lockKeys('glance_db_version');
          const dbName = new URL(db.url.replace(/^postgresql:/, 'http:')).pathname.slice(1);
          const holder = spawn(
            'psql',
            [
              '-X',
              ...clientArgs('postgresql'),
              '-d',
              dbName,
              '-c',
              `BEGIN; SET application_name = 'metadefs-lock-test'; SELECT pg_advisory_xact_lock(${a}, ${b}); SELECT pg_sleep(8); COMMIT;`,
            ],
            { env: clientEnv('postgresql') },
          );
          // Wait until the holder has the lock (not a fixed sleep: the machine may be slow).
          const held = `SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = ${a} AND objid = ${b} AND granted`;
          while (Number((await db.rows(held))[0].n) === 0) await new Promise((r) => setTimeout(r, 50));
          const r = await run(db, ['metadefs', 'load', FIXTURES, '--lock-wait', '1']);
          assert.is(r.code, 8, r.stderr);
          assert.match(r.stderr, /held by server process \d+ \(metadefs-lock-test/);
          assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
          await new Promise((res) => holder.on('close', res));
          const ok = await run(db, ['metadefs', 'load', FIXTURES, '--lock-wait', '10']);
          assert.is(ok.code, 0, ok.stderr);
        }),
    );
  }

  s.run();
}
