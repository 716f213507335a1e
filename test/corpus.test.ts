// Every deployment tool's own command line, as the tool runs it (issue 27
// item 5): the lines and config layouts of test/corpus/corpus.yaml, copied
// from kolla, kolla-ansible, openstack-ansible, openstack-helm, devstack,
// puppet-glance and charm-glance, run against real PostgreSQL and MariaDB as
// the unprivileged OS user `glance`, through a symbolic link named
// glance-manage to bin/run.js. Each scenario must exit 0 at every step and
// leave the right database at the right version; then, as every tool reruns
// its steps, the same steps again must exit 0 and change nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { BIN, LATEST, ROOT, runCli } from './helpers.js';
import {
  adminSql,
  createDatabase,
  dropDatabase,
  dumpDatabase,
  serverAvailable,
  serverUrl,
  type ServerDialect,
} from './servers.js';

interface Line {
  source: string;
  path: string;
  at: string | number;
  shell: 'bash' | 'sh' | 'argv';
  text: string;
  prelude?: string;
  template?: string;
  substitute?: Record<string, string>;
  env?: Record<string, string>;
}
interface Layout {
  home: boolean;
  mode?: string;
  query: Record<ServerDialect, string>;
  files: Record<string, string>;
}
interface Scenario {
  name: string;
  layout: string;
  start?: number;
  steps: { line: string; env?: Record<string, string> }[];
  expect: { version: 'newest'; metadefs?: boolean; decoyUntouched?: boolean; says?: string };
}
interface Corpus {
  sources: Record<string, { repo: string; commit: string }>;
  lines: Record<string, Line>;
  layouts: Record<string, Layout>;
  scenarios: Scenario[];
}

const CORPUS_FILE = join(ROOT, 'test', 'corpus', 'corpus.yaml');
const corpus = parse(readFileSync(CORPUS_FILE, 'utf8')) as Corpus;
const METADEFS_FIXTURES = join(ROOT, 'test', 'fixtures', 'metadefs');
const USER = 'glance';

// ---------------------------------------------------------------------------
// The corpus file itself: every reference resolves, every substitution is
// one the file lists and that occurs in the text.

test('corpus: every line names a known source, a path, a commit and the text', () => {
  for (const [name, l] of Object.entries(corpus.lines)) {
    const src = corpus.sources[l.source];
    assert.ok(src, `${name}: source ${l.source}`);
    assert.match(src.commit, /^[0-9a-f]{40}$/, `${name}: commit`);
    assert.match(src.repo, /^openstack\//, `${name}: repo`);
    assert.ok(l.path && String(l.at).match(/^\d+(-\d+)?$/), `${name}: path and line(s)`);
    assert.ok(['bash', 'sh', 'argv'].includes(l.shell), `${name}: shell`);
    assert.match(l.text, /glance-manage/, `${name}: runs glance-manage`);
    for (const [from, to] of Object.entries(l.substitute ?? {})) {
      assert.ok(l.text.includes(from), `${name}: substitutes ${from}, which is in its text`);
      assert.match(to, /^(BIN|ETC|METADEFS|LOG)\/?$/, `${name}: substitutes into a known place`);
    }
  }
  for (const s of corpus.scenarios) {
    assert.ok(corpus.layouts[s.layout], `${s.name}: layout ${s.layout}`);
    for (const st of s.steps) assert.ok(corpus.lines[st.line], `${s.name}: line ${st.line}`);
  }
  const used = new Set(corpus.scenarios.flatMap((s) => s.steps.map((st) => st.line)));
  assert.equal(
    Object.keys(corpus.lines).filter((n) => !used.has(n)),
    [],
    'every line runs in some scenario',
  );
  const tools = new Set(Object.values(corpus.lines).map((l) => l.source));
  for (const t of ['kolla', 'openstack-ansible', 'openstack-helm', 'devstack', 'puppet-glance', 'charm-glance'])
    assert.ok(tools.has(t), `a line of ${t}`);
});

// ---------------------------------------------------------------------------
// Running the lines as the tools do.

/** The OS user the tools run glance-manage as; created (a system user, no home, no shell) when the host has none. */
function glanceUser(): { uid: number; gid: number } | string {
  if (process.getuid?.() !== 0) return 'needs root, to run glance-manage as the user glance';
  if (spawnSync('runuser', ['--version']).status !== 0) return 'needs runuser (util-linux)';
  let id = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
  if (id.status !== 0) {
    const add = spawnSync(
      'useradd',
      ['--system', '--no-create-home', '--home-dir', '/var/lib/glance', '--shell', '/usr/sbin/nologin', USER],
      { encoding: 'utf8' },
    );
    if (add.status !== 0) return `useradd ${USER} failed: ${add.stderr}`;
    id = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', USER], { encoding: 'utf8' });
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The files glance-manage as `glance` must reach: this checkout (bin/run.js, dist/bundle) and Node. */
function readableByOthers(): string | null {
  for (let p = BIN; p !== '/'; p = dirname(p))
    if ((statSync(p).mode & 0o005) !== 0o005) return `${p} is not readable and searchable by others`;
  for (let p = process.execPath; p !== '/'; p = dirname(p))
    if ((statSync(p).mode & 0o005) !== 0o005) return `${p} is not readable and runnable by others`;
  return null;
}

interface Place {
  root: string;
  home: string;
  bin: string;
  etc: string;
  metadefs: string;
  log: string;
  site: string;
}

/** A folder laid out as the tool lays out its host: glance-manage on PATH, its config files, the metadefs, a log folder. */
function place(layout: Layout, url: string, decoy: string, who: { uid: number; gid: number }): Place {
  const root = mkdtempSync('/tmp/gdb_corpus_');
  chmodSync(root, 0o755);
  const p: Place = {
    root,
    home: join(root, 'home'),
    bin: join(root, 'bin'),
    etc: layout.home ? join(root, 'home', '.glance') : join(root, 'etc', 'glance'),
    metadefs: join(root, 'metadefs'),
    log: join(root, 'log'),
    site: join(root, 'site-packages'),
  };
  for (const d of [p.home, p.bin, p.etc, p.log, p.site]) mkdirSync(d, { recursive: true, mode: 0o755 });
  symlinkSync(BIN, join(p.bin, 'glance-manage'));
  cpSync(METADEFS_FIXTURES, p.metadefs, { recursive: true });
  // The Glance the tool deployed beside it: 2024.2 (29.0.0), whose schema is glance-db's newest.
  mkdirSync(join(p.site, 'glance-29.0.0.dist-info'));
  writeFileSync(
    join(p.site, 'glance-29.0.0.dist-info', 'METADATA'),
    'Metadata-Version: 2.1\nName: glance\nVersion: 29.0.0\n',
  );
  for (const [rel, body] of Object.entries(layout.files)) {
    const file = join(p.etc, rel);
    if (rel.endsWith('/')) {
      mkdirSync(file, { recursive: true });
      continue;
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      body.replaceAll('{url}', url).replaceAll('{decoy}', decoy).replaceAll('{metadefs}', p.metadefs),
      { mode: Number.parseInt(layout.mode ?? '0640', 8) },
    );
  }
  // The tool's files belong to glance (kolla: owner glance, 0600), and so does its HOME and log folder.
  for (const d of [p.home, p.log, p.etc]) chownTree(d, who);
  return p;
}

function chownTree(path: string, who: { uid: number; gid: number }): void {
  chownSync(path, who.uid, who.gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), who);
}

const placeOf: Record<string, keyof Place> = { BIN: 'bin', ETC: 'etc', METADEFS: 'metadefs', LOG: 'log' };

/** The line's text with the listed substitutions made, and nothing else. */
function rendered(l: Line, p: Place): string {
  const subs = Object.entries(l.substitute ?? {});
  if (!subs.length) return l.text;
  // One pass, the longest literal first: /etc/glance/ inside /var/lib/openstack/etc/glance/metadefs is not the tool's /etc/glance.
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(
    subs
      .map(([from]) => from)
      .sort((a, b) => b.length - a.length)
      .map(escape)
      .join('|'),
    'g',
  );
  return l.text.replace(pattern, (from) => {
    const to = l.substitute![from];
    const dir = p[placeOf[to.replace(/\/$/, '')]];
    return to.endsWith('/') ? `${dir}/` : dir;
  });
}

function envValue(v: string, p: Place, url: string): string {
  if (v === 'URL') return url;
  const k = placeOf[v];
  return k ? p[k] : v;
}

interface Run {
  code: number | null;
  out: string;
}

/** One step, as the tool runs it: as user glance, with a clean environment (HOME, PATH with glance-manage first, the tool's variables). */
function runStep(l: Line, stepEnv: Record<string, string>, p: Place, url: string): Run {
  const env: Record<string, string> = {
    HOME: p.home,
    PATH: `${p.bin}:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    LANG: 'C.UTF-8',
    // Where this host's Glance is looked for: the tool's own (above), never the machine's.
    GLANCE_DB_GLANCE_SITE_PACKAGES: p.site,
  };
  for (const [k, v] of Object.entries({ ...l.env, ...stepEnv })) env[k] = envValue(v, p, url);
  const text = rendered(l, p);
  let argv: string[];
  if (l.shell === 'argv') {
    const words = /\[(.*)\]/
      .exec(text)?.[1]
      .split(',')
      .map((w) => w.trim().replace(/^'|'$/g, ''));
    assert.ok(words?.length, `a Python list in ${text}`);
    argv = words!;
  } else argv = [l.shell === 'bash' ? '/bin/bash' : '/bin/sh', '-c', l.prelude ? `${l.prelude}\n${text}` : text];
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync('runuser', ['-u', USER, '--', 'env', '-i', ...envArgs, ...argv], {
    cwd: p.home,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The database URL the tool's config holds: its driver's scheme, the test server's address, the tool's query string. */
function toolUrl(dialect: ServerDialect, name: string, layout: Layout): string {
  const base = serverUrl(dialect, name).replace(/^mysql:/, 'mysql+pymysql:');
  return `${base}${layout.query[dialect] ?? ''}`;
}

const newest = (dialect: ServerDialect, db: string) =>
  Number(
    adminSql(dialect, "SELECT max(version) FROM glance_db_version WHERE status = 'complete';", db)
      .trim()
      .split('\n')
      .filter((s) => /^\s*\d+\s*$/.test(s))
      .pop(),
  );
const alembic = (dialect: ServerDialect, db: string) =>
  adminSql(dialect, 'SELECT version_num FROM alembic_version;', db)
    .split('\n')
    .map((x) => x.trim())
    .filter((x) => /^[a-z0-9_]+$/.test(x) && x !== 'version_num');
const namespaces = (dialect: ServerDialect, db: string) =>
  Number(
    adminSql(dialect, 'SELECT count(*) FROM metadef_namespaces;', db)
      .trim()
      .split('\n')
      .filter((s) => /^\s*\d+\s*$/.test(s))
      .pop(),
  );
const tables = (dialect: ServerDialect, db: string) =>
  adminSql(
    dialect,
    dialect === 'postgresql'
      ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public';"
      : `SELECT count(*) FROM information_schema.tables WHERE table_schema = '${db}';`,
  )
    .trim()
    .split('\n')
    .filter((s) => /^\s*\d+\s*$/.test(s))
    .pop();

const who = glanceUser();
const unreadable = readableByOthers();

for (const dialect of ['postgresql', 'mysql'] as ServerDialect[]) {
  const available = serverAvailable(dialect);
  for (const s of corpus.scenarios) {
    test(`${dialect}: ${s.name}`, async () => {
      if (!available) return;
      // Never skipped quietly: where the lines cannot run as glance, a loud SKIP, and in CI a failure.
      const cannot =
        typeof who === 'string'
          ? `the corpus ${who}`
          : unreadable
            ? `the corpus runs glance-manage as user glance, but ${unreadable} (chmod o+rx)`
            : null;
      if (cannot && process.env.GLANCE_DB_REQUIRE_SERVERS === '1') throw new Error(cannot);
      if (cannot || typeof who === 'string') {
        console.log(`\n*** SKIP: ${dialect}: ${s.name}: ${cannot} ***\n`);
        return;
      }
      const layout = corpus.layouts[s.layout];
      const db = createDatabase(dialect, `gdb_corpus_${randomBytes(4).toString('hex')}`);
      const decoy = createDatabase(dialect, `gdb_corpus_decoy_${randomBytes(4).toString('hex')}`);
      const url = toolUrl(dialect, db.name, layout);
      const p = place(layout, url, toolUrl(dialect, decoy.name, layout), who);
      try {
        if (s.start !== undefined) {
          // Set-up, not the subject: glance-db in process (the steps below are the tools' real processes).
          const r = await runCli(['sync', String(s.start), '--url', db.url]);
          assert.is(r.code, 0, `preparing version ${s.start}: ${r.stderr}`);
        }
        const all = () => {
          let out = '';
          for (const st of s.steps) {
            const l = corpus.lines[st.line];
            const r = runStep(l, st.env ?? {}, p, url);
            assert.is(
              r.code,
              0,
              `${st.line} (${corpus.sources[l.source].repo} ${l.path}:${l.at}) as ${USER}, exit ${r.code}:\n${r.out}`,
            );
            assert.not.match(r.out, /\n\s+at /, `${st.line}: no stack trace`);
            out += r.out;
          }
          return out;
        };
        const said = all();
        if (s.expect.says) assert.ok(said.includes(s.expect.says), `the output says ${s.expect.says}:\n${said}`);
        assert.is(newest(dialect, db.name), LATEST, 'the database is at the newest version');
        assert.equal(
          alembic(dialect, db.name),
          ['2024_1_contract01'],
          "alembic_version is kept where Glance's own tool expects it",
        );
        // Exactly the layout's metadefs: never the host's /etc/glance/metadefs (a distribution's Glance package has its own).
        if (s.expect.metadefs)
          assert.is(
            namespaces(dialect, db.name),
            readdirSync(METADEFS_FIXTURES).length,
            "the layout's metadefs namespaces are loaded",
          );
        if (s.expect.decoyUntouched)
          assert.is(Number(tables(dialect, decoy.name)), 0, "the config file's other database is left alone");
        const before = dumpDatabase(dialect, db.name);
        // Every tool runs its steps again: on the next deployment, after a failed Job, from a cron.
        all();
        assert.fixture(dumpDatabase(dialect, db.name), before, 'running the steps again changes nothing');
      } finally {
        rmSync(p.root, { recursive: true, force: true });
        dropDatabase(dialect, db.name);
        dropDatabase(dialect, decoy.name);
      }
    });
  }
}

test.run();
