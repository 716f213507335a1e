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
import { withDb, type DialectEnv, type TestDb } from './dialects.js';
import { cli, ROOT } from './helpers.js';
import { clientArgs, clientEnv } from './servers.js';
import { lockKeys } from '../src/drivers/postgresql.js';

export const FIXTURES = join(ROOT, 'test', 'fixtures', 'metadefs');

type Doc = Record<string, any>;
const readDocs = (dir: string): Doc[] => readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));

const bool = (v: unknown) => (v === null || v === undefined ? null : v === true || v === 1 || v === '1');
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const byKey = <T extends Record<string, unknown>>(rows: T[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** The metadef rows by natural key (no ids, no timestamps), JSON columns parsed. */
export async function metadefRows(db: TestDb) {
  const ns = await db.rows('SELECT id, namespace, display_name, description, visibility, protected, owner, created_at FROM metadef_namespaces');
  const nsName = new Map(ns.map((r) => [Number(r.id), String(r.namespace)]));
  const rt = await db.rows('SELECT id, name, protected, created_at FROM metadef_resource_types');
  const rtName = new Map(rt.map((r) => [Number(r.id), String(r.name)]));
  const n = (id: unknown) => nsName.get(Number(id));
  return {
    namespaces: byKey(ns.map((r) => ({ namespace: r.namespace, display_name: str(r.display_name), description: str(r.description), visibility: str(r.visibility), protected: bool(r.protected), owner: r.owner, hasCreatedAt: r.created_at !== null }))),
    resourceTypes: byKey(rt.map((r) => ({ name: r.name, protected: bool(r.protected), hasCreatedAt: r.created_at !== null }))),
    associations: byKey((await db.rows('SELECT namespace_id, resource_type_id, prefix, properties_target FROM metadef_namespace_resource_types')).map((r) => ({ namespace: n(r.namespace_id), resource_type: rtName.get(Number(r.resource_type_id)), prefix: str(r.prefix), properties_target: str(r.properties_target) }))),
    properties: byKey((await db.rows('SELECT namespace_id, name, json_schema FROM metadef_properties')).map((r) => ({ namespace: n(r.namespace_id), name: r.name, json_schema: JSON.parse(String(r.json_schema)) }))),
    objects: byKey((await db.rows('SELECT namespace_id, name, description, required, json_schema FROM metadef_objects')).map((r) => ({ namespace: n(r.namespace_id), name: r.name, description: str(r.description), required: str(r.required), json_schema: JSON.parse(String(r.json_schema)) }))),
    tags: byKey((await db.rows('SELECT namespace_id, name FROM metadef_tags')).map((r) => ({ namespace: n(r.namespace_id), name: r.name }))),
  };
}

/** What Glance's data model holds after loading these documents. */
export function expectedRows(docs: Doc[]) {
  const rtNames = new Set(docs.flatMap((d) => (d.resource_type_associations ?? []).map((a: Doc) => a.name)));
  return {
    namespaces: byKey(docs.map((d) => ({ namespace: d.namespace, display_name: d.display_name ?? null, description: d.description ?? null, visibility: d.visibility ?? null, protected: d.protected ?? null, owner: d.owner ?? 'admin', hasCreatedAt: true }))),
    // glance-manage creates missing resource types protected.
    resourceTypes: byKey([...rtNames].map((name) => ({ name, protected: true, hasCreatedAt: true }))),
    associations: byKey(docs.flatMap((d) => (d.resource_type_associations ?? []).map((a: Doc) => ({ namespace: d.namespace, resource_type: a.name, prefix: a.prefix ?? null, properties_target: a.properties_target ?? null })))),
    properties: byKey(docs.flatMap((d) => Object.entries(d.properties ?? {}).map(([name, schema]) => ({ namespace: d.namespace, name, json_schema: schema })))),
    // MetadefObjectRepo: required comma-joined, NULL when empty; json_schema is the properties.
    objects: byKey(docs.flatMap((d) => (d.objects ?? []).map((o: Doc) => ({ namespace: d.namespace, name: o.name, description: o.description ?? null, required: o.required?.length ? o.required.join(',') : null, json_schema: o.properties ?? {} })))),
    tags: byKey(docs.flatMap((d) => (d.tags ?? []).map((t: Doc) => ({ namespace: d.namespace, name: t.name })))),
  };
}

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `glance-db-${prefix}-`));

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
  d.objects.push({ name: 'Storage', required: ['acme_pool'], properties: { acme_pool: { title: 'Pool', type: 'string' } } });
  d.tags = d.tags.filter((t: Doc) => t.name !== 'x86_64').concat([{ name: 'aarch64' }]);
  writeFileSync(file, JSON.stringify(d, null, 2));
}

export function metadefsSuite(env: DialectEnv): void {
  const s = suite(`metadefs: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const run = (db: TestDb, args: string[]) => cli([...args, '--url', db.url]);
  const synced = async (db: TestDb) => assert.is(run(db, ['sync']).code, 0);

  s('load adds every fixture namespace; the rows are what Glance\'s data model expects, column by column', () =>
    withDb(env, async (db) => {
      await synced(db);
      const r = run(db, ['metadefs', 'load', FIXTURES]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stdout, 'metadefs: 3 added, 0 updated, 0 unchanged, 0 skipped');
      assert.match(r.stdout, `added ACME::Image (${join(FIXTURES, 'acme-image.json')}): 4 properties, 2 objects, 3 tags, 2 resource types`);
      assert.equal(await metadefRows(db), expectedRows(readDocs(FIXTURES)));
      // glance-manage's default: an existing namespace is skipped, nothing changes.
      const again = run(db, ['db', 'load_metadefs', '--path', FIXTURES, '--json']);
      assert.is(again.code, 0, again.stderr);
      const j = JSON.parse(again.stdout);
      assert.equal(j.summary, { added: 0, updated: 0, unchanged: 0, skipped: 3 });
      assert.is(j.command, 'metadefs:load');
    }));

  s('diff shows what --merge would change; --merge adds only what is new, --prefer-new updates, --overwrite removes what the file dropped', () =>
    withDb(env, async (db) => {
      await synced(db);
      assert.is(run(db, ['metadefs', 'load', FIXTURES]).code, 0);
      const v2 = tmp('metadefs-v2');
      try {
        version2(v2);
        const before = await metadefRows(db);
        const d = run(db, ['metadefs', 'diff', v2, '--json']);
        assert.is(d.code, 0, d.stderr);
        const plan = JSON.parse(d.stdout);
        assert.equal(plan.summary, { added: 0, updated: 1, unchanged: 2, skipped: 0 });
        const img = plan.namespaces.find((n: Doc) => n.namespace === 'ACME::Image');
        const act = (a: string) => img.changes.filter((c: Doc) => c.action === a).map((c: Doc) => `${c.kind} ${c.name}${c.fields ? ` (${c.fields.join(',')})` : ''}`).sort();
        assert.equal(act('add'), ['object Storage', 'property arch', 'tag aarch64']);
        assert.equal(act('keep'), ['namespace ACME::Image (description)', 'object Secure Boot (required)', 'property boot (json_schema)', 'property cores (json_schema)', 'resource_type_association OS::Cinder::Volume (prefix)']);
        assert.equal(act('extra'), ['tag x86_64']);
        assert.equal(await metadefRows(db), before, 'diff changed nothing');
        const text = run(db, ['metadefs', 'diff', v2]).stdout;
        assert.match(text, 'would update ACME::Image');
        assert.match(text, '  + property arch');
        assert.match(text, '  ! property cores differs from the file (json_schema); kept (--prefer-new takes the file\'s)');

        // --merge: exactly the additions.
        const m = run(db, ['metadefs', 'load', v2, '--merge']);
        assert.is(m.code, 0, m.stderr);
        assert.match(m.stdout, 'metadefs: 0 added, 1 updated, 2 unchanged, 0 skipped');
        const merged = await metadefRows(db);
        const v2docs = readDocs(v2);
        assert.equal(merged.properties.find((p) => p.name === 'arch')!.json_schema, v2docs[1].properties.arch);
        assert.equal(merged.properties.find((p) => p.name === 'cores')!.json_schema.maximum, 256, 'kept without --prefer-new');
        assert.ok(merged.tags.some((t) => t.name === 'x86_64') && merged.tags.some((t) => t.name === 'aarch64'));
        assert.is(JSON.parse(run(db, ['metadefs', 'diff', v2, '--json']).stdout).summary.updated, 0, 'after --merge nothing is left to add');

        // --prefer-new: the file wins where they differ; extras stay.
        const p = run(db, ['metadefs', 'load', v2, '--merge', '--prefer_new']);
        assert.is(p.code, 0, p.stderr);
        const pn = await metadefRows(db);
        const exp = expectedRows(v2docs);
        assert.equal(pn.properties, exp.properties);
        assert.equal(pn.objects, exp.objects);
        assert.equal(pn.associations, exp.associations);
        assert.equal(pn.namespaces, exp.namespaces);
        assert.ok(pn.tags.some((t) => t.name === 'x86_64'), 'an item only in the database stays with --prefer-new');
        assert.equal(JSON.parse(run(db, ['metadefs', 'diff', v2, '--prefer-new', '--json']).stdout).summary, { added: 0, updated: 0, unchanged: 3, skipped: 0 });

        // --overwrite: the namespace becomes the file's, the extra tag goes.
        const o = run(db, ['metadefs', 'load', v2, '--merge', '--overwrite']);
        assert.is(o.code, 0, o.stderr);
        assert.match(o.stdout, '  - tag x86_64');
        assert.equal(await metadefRows(db), exp);
      } finally {
        rmSync(v2, { recursive: true, force: true });
      }
    }));

  s('export writes files that load reads back into the same rows; a second export is byte for byte the same', () =>
    withDb(env, async (db) => {
      await synced(db);
      assert.is(run(db, ['metadefs', 'load', FIXTURES]).code, 0);
      const out1 = tmp('metadefs-export');
      const out2 = tmp('metadefs-export');
      try {
        const e = run(db, ['db', 'export_metadefs', out1]);
        assert.is(e.code, 0, e.stderr);
        // glance-manage's names: the display name's letters and digits.
        assert.equal(readdirSync(out1).sort(), ['ACMEFlavorLimits.json', 'ACMEImageProperties.json', 'ACMEminimalnovisibilitynoprotected.json']);
        const rows = await metadefRows(db);
        assert.is(run(db, ['metadefs', 'unload', '--yes']).code, 0);
        const r = run(db, ['metadefs', 'load', out1]);
        assert.is(r.code, 0, r.stderr);
        assert.equal(await metadefRows(db), rows);
        assert.equal(JSON.parse(run(db, ['metadefs', 'diff', out1, '--overwrite', '--json']).stdout).summary.unchanged, 3);
        assert.is(run(db, ['metadefs', 'export', out2]).code, 0);
        for (const f of readdirSync(out1)) assert.is(readFileSync(join(out2, f), 'utf8'), readFileSync(join(out1, f), 'utf8'), f);
      } finally {
        rmSync(out1, { recursive: true, force: true });
        rmSync(out2, { recursive: true, force: true });
      }
    }));

  s('an invalid, unreadable or missing document: exit 28 naming file, line and path; nothing loaded, not even the valid files', () =>
    withDb(env, async (db) => {
      await synced(db);
      const dir = tmp('metadefs-bad');
      try {
        cpSync(FIXTURES, dir, { recursive: true });
        writeFileSync(join(dir, 'zz-bad-schema.json'), '{\n  "namespace": "Bad::One",\n  "objects": [\n    { "name": 7 }\n  ],\n  "tags": [{ "name": "a" }, { "name": "a" }]\n}\n');
        writeFileSync(join(dir, 'zz-broken.json'), '{\n  "namespace": "Bad::Two",\n  "tags": [\n}\n');
        const r = run(db, ['metadefs', 'load', dir]);
        assert.is(r.code, 28, r.stderr);
        assert.match(r.stderr, `${join(dir, 'zz-bad-schema.json')}:4: objects[0].name: must be string`);
        assert.match(r.stderr, `${join(dir, 'zz-broken.json')}:4: invalid JSON`);
        assert.not.match(r.stderr, 'at Object.');
        assert.is((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n == 0, true, 'nothing loaded');
        rmSync(join(dir, 'zz-broken.json'));
        writeFileSync(join(dir, 'zz-bad-schema.json'), '{"namespace": "Bad::One", "tags": [{"name": "a"}, {"name": "a"}]}');
        const dup = run(db, ['metadefs', 'load', dir, '--json']);
        assert.is(dup.code, 28);
        const j = JSON.parse(dup.stdout);
        assert.is(j.error.code, 'METADEFS_INVALID');
        assert.equal(j.error.errors, [`${join(dir, 'zz-bad-schema.json')}:1: tags[1].name: tag "a" appears twice`]);
        const missing = run(db, ['metadefs', 'load', join(dir, 'nope')]);
        assert.is(missing.code, 28);
        assert.match(missing.stderr, `error: The metadefs path ${join(dir, 'nope')} does not exist.`);
        const empty = tmp('metadefs-empty');
        const none = run(db, ['metadefs', 'load', empty]);
        rmSync(empty, { recursive: true, force: true });
        assert.is(none.code, 28);
        assert.match(none.stderr, 'holds no .json files');
        assert.is((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n == 0, true, 'still nothing loaded');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  s('a database error in one namespace: exit 29 naming the file; that namespace rolled back whole, the ones before it loaded, none after it', () =>
    withDb(env, async (db) => {
      await synced(db);
      // A trigger refuses one tag of ACME::Image, after its namespace row, properties and objects were inserted.
      await db.exec({
        sqlite: "CREATE TRIGGER boom BEFORE INSERT ON metadef_tags WHEN NEW.name = 'certified' BEGIN SELECT RAISE(ABORT, 'tag refused by test trigger'); END;",
        postgresql: "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'certified' THEN RAISE EXCEPTION 'tag refused by test trigger'; END IF; RETURN NEW; END $$; CREATE TRIGGER boom BEFORE INSERT ON metadef_tags FOR EACH ROW EXECUTE FUNCTION boom();",
        mysql: "DELIMITER //\nCREATE TRIGGER boom BEFORE INSERT ON metadef_tags FOR EACH ROW BEGIN IF NEW.name = 'certified' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'tag refused by test trigger'; END IF; END//\nDELIMITER ;",
      }[env.dialect]);
      const r = run(db, ['metadefs', 'load', FIXTURES]);
      assert.is(r.code, 29, r.stderr);
      assert.match(r.stderr, `error: Loading namespace ACME::Image from ${join(FIXTURES, 'acme-image.json')} failed`);
      assert.match(r.stderr, 'tag refused by test trigger');
      assert.match(r.stderr, 'the 1 namespace(s) before it are loaded, the 1 after it were not tried');
      assert.equal((await db.rows('SELECT namespace FROM metadef_namespaces')).map((x) => x.namespace), ['ACME::Flavor']);
      const rows = await metadefRows(db);
      assert.equal(rows, expectedRows(readDocs(FIXTURES).filter((d) => d.namespace === 'ACME::Flavor')));
    }));

  s('usage: --prefer-new needs --merge, unload needs --yes (exit 2, nothing changed); a database below the newest version is refused (13), a missing one too (5)', () =>
    withDb(env, async (db) => {
      assert.is(run(db, ['metadefs', 'load', FIXTURES]).code, 5);
      assert.is(run(db, ['sync', '50']).code, 0);
      const old = run(db, ['metadefs', 'load', FIXTURES]);
      assert.is(old.code, 13, old.stderr);
      assert.match(old.stderr, 'needs the newest version');
      assert.is(run(db, ['purge']).code, 13);
      await synced(db);
      assert.is(run(db, ['metadefs', 'load', FIXTURES, '--prefer-new']).code, 2);
      assert.is(run(db, ['metadefs', 'load', FIXTURES, '--merge', '--prefer-new', '--overwrite']).code, 2);
      assert.is(run(db, ['metadefs', 'load', FIXTURES]).code, 0);
      const u = run(db, ['metadefs', 'unload']);
      assert.is(u.code, 2);
      assert.match(u.stderr, 'hint: Run it again with --yes');
      assert.is((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n == 3, true);
      const y = run(db, ['db', 'unload_metadefs', '--yes', '--json']);
      assert.is(y.code, 0, y.stderr);
      assert.equal(JSON.parse(y.stdout).tables.map((t: Doc) => t.rows), [4, 3, 4, 5, 3, 4]);
      for (const t of ['metadef_properties', 'metadef_objects', 'metadef_tags', 'metadef_namespace_resource_types', 'metadef_namespaces', 'metadef_resource_types']) {
        assert.is(Number((await db.rows(`SELECT COUNT(*) AS n FROM ${t}`))[0].n), 0, t);
      }
    }));

  if (env.dialect === 'postgresql') {
    s('PostgreSQL: a held migration lock makes load wait up to --lock-wait, then exit 8 naming the holder; nothing loaded', () =>
      withDb(env, async (db) => {
        await synced(db);
        const [a, b] = lockKeys('glance_db_version');
        const dbName = new URL(db.url.replace(/^postgresql:/, 'http:')).pathname.slice(1);
        const holder = spawn('psql', ['-X', ...clientArgs('postgresql'), '-d', dbName, '-c', `BEGIN; SET application_name = 'metadefs-lock-test'; SELECT pg_advisory_xact_lock(${a}, ${b}); SELECT pg_sleep(8); COMMIT;`], { env: clientEnv('postgresql') });
        // Wait until the holder has the lock (not a fixed sleep: the machine may be slow).
        const held = `SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = ${a} AND objid = ${b} AND granted`;
        while (Number((await db.rows(held))[0].n) === 0) await new Promise((r) => setTimeout(r, 50));
        const r = run(db, ['metadefs', 'load', FIXTURES, '--lock-wait', '1']);
        assert.is(r.code, 8, r.stderr);
        assert.match(r.stderr, /held by server process \d+ \(metadefs-lock-test/);
        assert.is(Number((await db.rows('SELECT COUNT(*) AS n FROM metadef_namespaces'))[0].n), 0);
        await new Promise((res) => holder.on('close', res));
        const ok = run(db, ['metadefs', 'load', FIXTURES, '--lock-wait', '10']);
        assert.is(ok.code, 0, ok.stderr);
      }));
  }

  s.run();
}
