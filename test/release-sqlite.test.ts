// Release-aware by default (issue 28 item 2) and glance-db started as
// glance-manage (issue 27 item 2), on SQLite files through the CLI. The
// installed Glance is a fixture tree (GLANCE_DB_GLANCE_SITE_PACKAGES) or named
// by GLANCE_DB_GLANCE_RELEASE, never the machine's: release-glance.test.ts
// runs the real one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cleanEnv, cli, LATEST, openSqlite, sqliteRows, VERSIONS, type CliResult } from './helpers.js';
import { ANTELOPE_VERSION_FILES, ZED_VERSION_FILES } from './release-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'gdb-release-sqlite-'));
let n = 0;

/** A site-packages folder holding Debian's Glance zed as glance-db reads it: egg-info and Alembic's version files. */
function zedSite(): string {
  const dir = join(root, 'site-zed');
  const versions = join(dir, 'glance', 'db', 'sqlalchemy', 'alembic_migrations', 'versions');
  mkdirSync(versions, { recursive: true });
  for (const f of ZED_VERSION_FILES) writeFileSync(join(versions, f), '');
  mkdirSync(join(dir, 'glance-25.1.0.egg-info'), { recursive: true });
  writeFileSync(
    join(dir, 'glance-25.1.0.egg-info', 'PKG-INFO'),
    'Metadata-Version: 2.1\nName: glance\nVersion: 25.1.0\n',
  );
  return dir;
}
const ZED = { GLANCE_DB_GLANCE_SITE_PACKAGES: zedSite() };

/** Glance 2023.1 (26.0.0) as glance-db reads it: its Alembic files, xena to 2023_1 included. */
function antelopeSite(): string {
  const dir = join(root, 'site-2023.1');
  const versions = join(dir, 'glance', 'db', 'sqlalchemy', 'alembic_migrations', 'versions');
  mkdirSync(versions, { recursive: true });
  for (const f of ANTELOPE_VERSION_FILES) writeFileSync(join(versions, f), '');
  mkdirSync(join(dir, 'glance-26.0.0.dist-info'), { recursive: true });
  writeFileSync(
    join(dir, 'glance-26.0.0.dist-info', 'METADATA'),
    'Metadata-Version: 2.1\nName: glance\nVersion: 26.0.0\n',
  );
  return dir;
}
const NONE = { GLANCE_DB_GLANCE_SITE_PACKAGES: '' };

/** A fresh folder and the URL of a SQLite file in it. */
function fresh(): { dir: string; url: string; file: string } {
  const dir = join(root, `t${n++}`);
  mkdirSync(dir);
  return { dir, url: `sqlite:${join(dir, 'glance.sqlite')}`, file: join(dir, 'glance.sqlite') };
}

const run = (args: string[], env: Record<string, string>, cwd: string) => cli(args, { cwd, env });
const level = async (file: string) =>
  Number((await sqliteRows(file, "SELECT max(version) AS v FROM glance_db_version WHERE status = 'complete'"))[0].v);
const alembic = async (file: string) =>
  (await sqliteRows(file, 'SELECT version_num FROM alembic_version ORDER BY version_num')).map((r) =>
    String(r.version_num),
  );
const all = (r: CliResult) => `${r.stdout}\n${r.stderr}`;
/** Any version past zed's 50: what nothing run on a zed host may offer. */
const PAST_ZED = new RegExp(`\\b(${VERSIONS.filter((v) => v > 50).join('|')})\\b`);

test("on a zed host, sync with no target stops at zed's schema (50, wallaby_contract01), says so on stderr, and check is then 0; check || sync stays there", async () => {
  const { dir, url, file } = fresh();
  const s = run(['sync', '--url', url], ZED, dir);
  assert.is(s.code, 0, s.stderr);
  assert.match(s.stderr, /^target: version 50, the schema of the installed Glance 25\.1\.0, zed \(/m);
  assert.not.match(s.stderr, 'warning');
  assert.is(await level(file), 50);
  assert.equal(await alembic(file), ['wallaby_contract01']);
  const c = run(['check', '--url', url], ZED, dir);
  assert.equal([c.code, c.stdout.trim()], [0, 'current: at version 50']);
  // The init-container pattern, as docs/guide shows it: a second deploy changes nothing.
  const again = spawnSync('sh', ['-c', `node ${BIN} check --url ${url} || node ${BIN} sync --url ${url}`], {
    cwd: dir,
    env: { ...cleanEnv(), ...ZED },
    encoding: 'utf8',
  });
  assert.is(again.status, 0, again.stderr);
  assert.is(await level(file), 50);
  // Past it only when asked for, with the warning.
  const past = run(['sync', String(LATEST), '--url', url], ZED, dir);
  assert.is(past.code, 0, past.stderr);
  assert.match(
    past.stderr,
    new RegExp(
      `^warning: the installed Glance is 25\\.1\\.0, zed, whose schema is version 50; going to ${LATEST}`,
      'm',
    ),
  );
  assert.is(await level(file), LATEST);
  // A database past the installed Glance: sync with no target (run on every deploy) has nothing to do, rather than
  // refusing a downgrade; asked for by name, a lower target still is one.
  const noop = run(['sync', '--url', url], ZED, dir);
  assert.is(noop.code, 0, noop.stderr);
  assert.match(
    noop.stdout,
    new RegExp(
      `^already at version ${LATEST} \\(past the installed Glance 25\\.1\\.0, zed, whose schema is version 50\\); nothing to do$`,
      'm',
    ),
  );
  const dry = run(['sync', '--dry-run', '--url', url], ZED, dir);
  assert.is(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, `already at version ${LATEST}; nothing to do`);
  assert.is(run(['sync', 'zed', '--url', url], ZED, dir).code, 6);
  assert.is(await level(file), LATEST);
  const over = run(['check', '--url', url], ZED, dir);
  assert.is(over.code, 0);
  assert.match(
    over.stdout,
    new RegExp(
      `^current: at version ${LATEST} \\(past the installed Glance 25\\.1\\.0, zed, whose schema is version 50: its glance-manage cannot read this database\\)$`,
      'm',
    ),
  );
});

test('without a Glance on the host (or GLANCE_DB_GLANCE_RELEASE=none), the newest; GLANCE_DB_GLANCE_RELEASE=zed names the release without looking', async () => {
  const a = fresh();
  assert.is(run(['sync', '--url', a.url], NONE, a.dir).code, 0);
  assert.is(await level(a.file), LATEST);
  const b = fresh();
  const s = run(['sync', '--url', b.url], { ...ZED, GLANCE_DB_GLANCE_RELEASE: 'none' }, b.dir);
  assert.is(s.code, 0, s.stderr);
  assert.not.match(s.stderr, 'target:');
  assert.is(await level(b.file), LATEST);
  const c = fresh();
  assert.is(run(['sync', '--url', c.url], { ...NONE, GLANCE_DB_GLANCE_RELEASE: 'zed' }, c.dir).code, 0);
  assert.is(await level(c.file), 50);
  const bad = run(['check', '--url', c.url], { ...NONE, GLANCE_DB_GLANCE_RELEASE: 'zork' }, c.dir);
  assert.is(bad.code, 3);
  assert.match(bad.stderr, /^error: GLANCE_DB_GLANCE_RELEASE must be auto, none, a Glance release/);
});

test('check, db check take TARGET and --release; every line and hint carries the target and none offers a version past the installed Glance', async () => {
  const { dir, url } = fresh();
  assert.is(run(['sync', '48', '--url', url], NONE, dir).code, 0);
  // zed host, no target: measured against 50.
  const c = run(['check', '--url', url], ZED, dir);
  assert.equal(
    [c.code, c.stdout.trim()],
    [13, 'upgrade pending: at version 48, 50 (the schema of the installed Glance 25.1.0, zed) is available'],
  );
  const d = run(['db', 'check', '--url', url], ZED, dir);
  assert.is(d.code, 3);
  assert.match(d.stdout, `Your first step is to run glance-db expand zed --url ${url}.`);
  for (const r of [c, d]) assert.not.match(all(r), PAST_ZED);
  // Given: as a number, a release, --release; the hint repeats it as written.
  assert.match(run(['check', 'zed', '--url', url], NONE, dir).stdout, 'at version 48, 50 (zed) is available');
  assert.match(
    run(['db', 'check', '--release', '2023.1', '--url', url], NONE, dir).stdout,
    'glance-db expand 2023.1 --url',
  );
  assert.match(run(['check', String(LATEST), '--url', url], ZED, dir).stdout, `at version 48, ${LATEST} is available`);
  assert.match(run(['check', '--url', url], NONE, dir).stdout, `at version 48, ${LATEST} is available`);
  const j = JSON.parse(run(['check', 'zed', '--url', url, '--json'], ZED, dir).stdout);
  assert.equal(
    [
      j.exitCode,
      j.current,
      j.latest,
      j.target.version,
      j.target.source,
      j.target.target,
      j.target.installedGlance.release,
    ],
    [13, 48, LATEST, 50, 'given', 'zed', 'zed'],
  );
  const disagree = run(['check', 'zed', '--release', String(LATEST), '--url', url], NONE, dir);
  assert.is(disagree.code, 2);
  assert.match(disagree.stderr, `TARGET zed (version 50) and --release ${LATEST} (version ${LATEST}) disagree`);
  const wrong = run(['check', 'zork', '--url', url], NONE, dir);
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, 'TARGET must be a whole number such as 51, a Glance release such as zed');
  // sync 50 reached, the same check is 0; db check up to date.
  assert.is(run(['sync', 'zed', '--url', url], NONE, dir).code, 0);
  assert.is(run(['check', 'zed', '--url', url], NONE, dir).code, 0);
  assert.is(run(['db', 'check', '--url', url], ZED, dir).code, 0);
  assert.is(run(['db', 'check', '--url', url], NONE, dir).code, 3);
  // A glance-manage database at 48 (no glance-db table): the takeover hint carries the target.
  const g = fresh();
  assert.is(run(['sync', '48', '--url', g.url], NONE, g.dir).code, 0);
  const db = await openSqlite(g.file);
  db.run('DROP TABLE glance_db_version');
  writeFileSync(g.file, db.export());
  db.close();
  const gc = run(['check', '--url', g.url], ZED, g.dir);
  assert.is(gc.code, 5);
  assert.match(
    gc.stdout,
    `managed by glance-manage at 48 (alembic_version: rocky_contract02); glance-db sync zed --url ${g.url} takes it over`,
  );
});

test('a rolling upgrade to zed on a zed host: expand, migrate, contract say nothing past 50; migrate and contract at 50 are no-ops', async () => {
  const { dir, url, file } = fresh();
  assert.is(run(['sync', '44', '--url', url], NONE, dir).code, 0);
  for (const phase of ['expand', 'migrate', 'contract']) {
    const r = run([phase, '--url', url], ZED, dir);
    assert.is(r.code, 0, `${phase}: ${r.stderr}`);
    assert.not.match(all(r), PAST_ZED, `${phase}: ${all(r)}`);
    assert.not.match(r.stderr, 'warning', phase);
  }
  assert.is(await level(file), 50);
  for (const phase of ['migrate', 'contract']) {
    const r = run([phase, '--url', url], ZED, dir);
    assert.is(r.code, 0, `${phase} again: ${r.stderr}`);
    assert.not.match(all(r), PAST_ZED);
  }
  // Without Glance the newest is offered as before.
  assert.match(
    run(['contract', '--url', url], NONE, dir).stderr + run(['contract', '--url', url], NONE, dir).stdout,
    new RegExp(`\\b${LATEST}\\b`),
  );
});

test("verify TARGET compares with that version's schema: whether the database is what that Glance release expects", () => {
  const { dir, url } = fresh();
  assert.is(run(['sync', 'zed', '--url', url], NONE, dir).code, 0);
  const ok = run(['verify', 'zed', '--url', url], NONE, dir);
  assert.equal([ok.code, ok.stdout.trim()], [0, 'schema matches version 50 (zed)']);
  const newer = run(['verify', '--release', '2024.1', '--url', url], NONE, dir);
  assert.is(newer.code, 12);
  assert.match(
    newer.stdout,
    /^schema differs from version 51 \(2024\.1\) \(the database records version 50\): 2 difference\(s\)/,
  );
  assert.match(newer.stdout, 'missing table cached_images');
  const j = JSON.parse(run(['verify', 'zed', '--url', url, '--json'], NONE, dir).stdout);
  assert.equal([j.ok, j.version, j.target.version], [true, 50, 50]);
  // No target: the recorded version, as before.
  assert.equal(run(['verify', '--url', url], ZED, dir).stdout.trim(), 'schema matches version 50');
});

/** Runs glance-db through a link named glance-manage, as a site that put it in glance-manage's place. */
function asGlanceManage(args: string[], env: Record<string, string>, cwd: string): CliResult {
  const link = join(root, 'bin', 'glance-manage');
  try {
    mkdirSync(join(root, 'bin'));
    symlinkSync(BIN, link);
  } catch {
    // made by an earlier test
  }
  const r = spawnSync(process.execPath, [link, ...args], { cwd, env: { ...cleanEnv(), ...env }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test("as glance-manage: db version prints the Alembic revision(s), glance-manage's sentence without them; glance-db keeps its integer", async () => {
  const { dir, url, file } = fresh();
  const none = asGlanceManage(['db', 'version', '--url', url], NONE, dir);
  assert.equal(
    [none.code, none.stdout],
    [
      0,
      'Database is either not under migration control or under legacy migration control, please run "glance-manage db sync" to place the database under alembic migration control.\n',
    ],
  );
  assert.equal(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout, '', 'no SQLite file made');
  assert.is(run(['sync', 'zed', '--url', url], NONE, dir).code, 0);
  assert.equal(asGlanceManage(['db', 'version', '--url', url], NONE, dir).stdout, 'wallaby_contract01\n');
  assert.equal(run(['db', 'version', '--url', url], NONE, dir).stdout, '50\n');
  // Mid rolling upgrade: both heads, as glance-manage prints them.
  const r = fresh();
  assert.is(run(['sync', '48', '--url', r.url], NONE, r.dir).code, 0);
  assert.is(run(['expand', '50', '--url', r.url], NONE, r.dir).code, 0);
  assert.equal(
    asGlanceManage(['db', 'version', '--url', r.url], NONE, r.dir).stdout.split('\n').filter(Boolean).sort(),
    (await alembic(r.file)).sort(),
  );
  assert.ok((await alembic(file)).length === 1);
});

test("as glance-manage: db check prints glance-manage's lines with its codes 0, 3, 4, 5, measured against the installed Glance", () => {
  const { dir, url } = fresh();
  const line = (r: CliResult) => [r.code, r.stdout.trim()];
  assert.equal(line(asGlanceManage(['db', 'check', '--url', url], ZED, dir)), [
    3,
    'Your database is not up to date. Your first step is to run `glance-manage db expand`.',
  ]);
  assert.is(run(['sync', '44', '--url', url], NONE, dir).code, 0);
  assert.is(run(['expand', 'zed', '--url', url], NONE, dir).code, 0);
  assert.equal(line(asGlanceManage(['db', 'check', '--url', url], ZED, dir)), [
    4,
    'Your database is not up to date. Your next step is to run `glance-manage db migrate`.',
  ]);
  assert.is(run(['migrate', '--url', url], NONE, dir).code, 0);
  assert.equal(line(asGlanceManage(['db', 'check', '--url', url], ZED, dir)), [
    5,
    'Your database is not up to date. Your next step is to run `glance-manage db contract`.',
  ]);
  assert.is(run(['contract', '--url', url], NONE, dir).code, 0);
  assert.equal(line(asGlanceManage(['db', 'check', '--url', url], ZED, dir)), [
    0,
    'Database is up to date. No upgrades needed.',
  ]);
  // No Glance installed: the newest is the measure.
  assert.equal(line(asGlanceManage(['db', 'check', '--url', url], NONE, dir)), [
    3,
    'Your database is not up to date. Your first step is to run `glance-manage db expand`.',
  ]);
  // Under its own name: glance-db's line.
  assert.match(
    run(['db', 'check', '--url', url], ZED, dir).stdout,
    /^Database is up to date\. No upgrades needed\. \(current: at version 50\)$/m,
  );
  // A failure is exit 1, as glance-manage's own; never 3, 4 or 5, which would read as a step.
  const bad = asGlanceManage(['db', 'check', '--url', 'sqlite:'], ZED, dir);
  assert.is(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /^error: /);
});

test("as glance-manage: db sync with no target stops where the installed Glance's own tool would; with none installed, the newest", async () => {
  const a = fresh();
  const s = asGlanceManage(['db', 'sync', '--url', a.url], ZED, a.dir);
  assert.is(s.code, 0, s.stderr);
  assert.is(await level(a.file), 50);
  assert.equal(await alembic(a.file), ['wallaby_contract01']);
  assert.equal(asGlanceManage(['db', 'sync', '--url', a.url], ZED, a.dir).code, 0);
  assert.is(await level(a.file), 50);
  const b = fresh();
  assert.is(asGlanceManage(['db', 'sync', '--url', b.url], NONE, b.dir).code, 0);
  assert.is(await level(b.file), LATEST);
});

test('Glance 2023.1 and 2023.2 hold 2023_1_contract01 at 50 (2023_1_expand01 during a rolling upgrade): what glance-db writes there, from their files or their name; zed keeps wallaby_contract01', async () => {
  const antelope = { GLANCE_DB_GLANCE_SITE_PACKAGES: antelopeSite() };
  for (const env of [antelope, { GLANCE_DB_GLANCE_RELEASE: '2023.2' }, { GLANCE_DB_GLANCE_RELEASE: 'antelope' }]) {
    const a = fresh();
    const s = run(['sync', '--url', a.url], env, a.dir);
    assert.is(s.code, 0, s.stderr);
    assert.is(await level(a.file), 50);
    assert.equal(await alembic(a.file), ['2023_1_contract01'], JSON.stringify(env));
    const c = run(['check', '--url', a.url], env, a.dir);
    assert.equal([c.code, c.stdout.trim()], [0, 'current: at version 50']);
    // A rolling upgrade from 44 to 50: after migrate, 2023.1's expand head (alone: mitaka02 is its ancestor).
    const b = fresh();
    assert.is(run(['sync', '44', '--url', b.url], env, b.dir).code, 0);
    assert.equal(await alembic(b.file), ['mitaka02']);
    assert.is(run(['expand', '--url', b.url], env, b.dir).code, 0);
    assert.is(run(['migrate', '--url', b.url], env, b.dir).code, 0);
    assert.equal(await alembic(b.file), ['2023_1_expand01']);
    assert.is(run(['contract', '--url', b.url], env, b.dir).code, 0);
    assert.equal(await alembic(b.file), ['2023_1_contract01']);
  }
  // A database zed's Glance left at 50 (wallaby_contract01), on a host now running 2023.1: glance-db's no-op sync leaves what 2023.1 expects.
  const z = fresh();
  assert.is(run(['sync', '--url', z.url], ZED, z.dir).code, 0);
  assert.equal(await alembic(z.file), ['wallaby_contract01']);
  const again = run(['sync', '--url', z.url], { GLANCE_DB_GLANCE_RELEASE: '2023.1' }, z.dir);
  assert.is(again.code, 0, again.stderr);
  assert.equal(await alembic(z.file), ['2023_1_contract01']);
  // And back on zed, what zed's glance-manage can read.
  assert.is(run(['sync', '--url', z.url], ZED, z.dir).code, 0);
  assert.equal(await alembic(z.file), ['wallaby_contract01']);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
