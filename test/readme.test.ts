// Every shell example in README.md and docs/**/*.md runs here, as written
// except for the names of outside things (Glance's config and data folders,
// database servers, log folders), each in a fresh project with what it
// presupposes. An example this file does not know fails the test: the pages
// and the tool stay in step. And every relative link and #anchor in those
// pages resolves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import {
  BIN,
  LATEST,
  LATEST_LABEL,
  ROOT,
  makeProject,
  referenceSql,
  removeProject,
  openSqlite,
  runCli,
} from './helpers.js';
import { mysqlEnv, postgresEnv, type TestDb } from './dialects.js';

/** README.md and every page under docs/, as paths relative to the repository. */
function pages(): string[] {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const rel = join(dir, name);
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out;
}
const PAGES = pages();
const text = (page: string) => readFileSync(join(ROOT, page), 'utf8');

interface Fence {
  info: string;
  lines: string[];
  start: number;
}
/** The fenced code blocks of a page (indented fences, as in list items, too); an unclosed fence throws. */
function fences(page: string): Fence[] {
  const out: Fence[] = [];
  let open: Fence | null = null;
  text(page)
    .split('\n')
    .forEach((line, i) => {
      const m = /^\s*```(.*)$/.exec(line);
      if (open) {
        if (m && m[1].trim() === '') {
          out.push(open);
          open = null;
        } else open.lines.push(line);
      } else if (m) open = { info: m[1].trim(), lines: [], start: i + 1 };
    });
  if (open) throw new Error(`${page}:${(open as Fence).start}: a code fence is never closed`);
  return out;
}

/**
 * The commands of a page's ```sh blocks: one a line, trimmed; a line that
 * leaves a double quote open or ends in a backslash goes on to the next;
 * comment lines are no commands.
 */
function commands(page: string): string[] {
  const out: string[] = [];
  for (const f of fences(page).filter((f) => f.info === 'sh')) {
    let pending = '';
    for (const raw of f.lines) {
      const line = pending ? `${pending}\n${raw}` : raw.trim();
      if ((line.match(/(?<!\\)"/g)?.length ?? 0) % 2 === 1 || line.endsWith('\\')) {
        pending = line;
        continue;
      }
      pending = '';
      if (line && !line.startsWith('#')) out.push(line);
    }
    if (pending) out.push(pending);
  }
  return out;
}

/** Each command, with the pages it is in. */
const WHERE = new Map<string, string[]>();
for (const page of PAGES) for (const c of commands(page)) WHERE.set(c, [...(WHERE.get(c) ?? []), page]);
const lines = [...WHERE.keys()];

interface Project {
  dir: string;
  run(line: string): { code: number | null; stdout: string; stderr: string };
  /** As on a Glance host: see Example.host. */
  runOnHost(line: string): { code: number | null; stdout: string; stderr: string };
  /**
   * A glance-db line of a set-up or a check (not the example itself) run in
   * this process (runCli), in the project, with the names rewritten as for
   * run(): the example is what runs through sh and a real process.
   */
  cli(line: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Examples that run elsewhere in the suite, and where. */
const ELSEWHERE: Record<string, string> = {
  'npm test': 'the suite itself',
  'npm ci': 'the install this suite runs in',
  'npm run build': 'the build this suite runs after (npm test builds first)',
  'npm ci && npm run build': 'the install and build this suite runs after',
  'npm ci && npm run package     # prints the tarball, its size and its SHA-256': 'test/airgap (npm run package)',
  'npm install -g ./glance-db-X.tgz --offline': 'test/airgap (installs the tarball offline into a fresh prefix)',
  'install -m 755 glance-db-linux-x64 /usr/local/bin/glance-db':
    'test/airgap (the single executable copied into an empty folder and run with no PATH and a fresh HOME)',
  'npm ci && npm run package && docker build -t glance-db:0.1.0 .':
    'test/container (the Dockerfile, built where Docker runs, else checked and its steps run from the tarball)',
  "glance-db metadefs load                                               # after sync: Glance's definitions from /etc/glance/metadefs":
    'test/metadefs (load from a folder of fixture namespaces, on every dialect)',
  'glance-db metadefs diff /usr/share/glance/metadefs --prefer-new       # before an upgrade: what would change':
    'test/metadefs (diff with --prefer-new against loaded rows)',
  'glance-db metadefs load --merge --prefer-new                          # bring updated definitions into a running cloud':
    'test/metadefs (load --merge --prefer-new)',
  'glance-db metadefs export ./metadefs-backup && glance-db metadefs unload --yes':
    'test/metadefs (export, unload --yes, reload: the round trip)',
  'glance-db purge --age-in-days 30 --batch-size 1000                    # a CronJob; safe to interrupt and rerun':
    'test/purge (batches, counts per table, a killed run finished by the next)',
  'glance-db purge-images --age-in-days 365 --dry-run': 'test/purge (purge-images, --dry-run counts)',
  'sqlite3 /var/lib/glance/glance.sqlite < upgrade.sql':
    'test/conformance (re-run every plan script: sqlite3 db < FILE, once and again)',
  'psql -v ON_ERROR_STOP=1 -h db -U glance -d glance -f upgrade.sql':
    'test/conformance (re-run every plan script: psql -v ON_ERROR_STOP=1 -f FILE, once and again)',
  'mariadb -h db -u glance -p glance < upgrade.sql':
    'test/conformance (re-run every plan script: mariadb db < FILE, once and again)',
  'glance-db lint --base origin/main                                      # CI: and nothing released on main changed':
    'test/lint-base (lint --base main in a git repository whose main branch holds the released lock)',
  'node test/run.mjs sqlite-files': 'test/sqlite-files, in the suite',
  'node test/run.mjs sqlite-writers': 'test/sqlite-writers, in the suite',
  'node dist/test/network.test.js                                  # the tests (about 80 s)':
    'test/network, in the suite',
};

/**
 * Commands that rerun a published measurement (docs/reliability.md,
 * docs/performance.md): minutes to hours each, some as root or against the
 * Galera cluster, so the suite does not run them. What each names must
 * exist: a file (relative to the repository), an npm script (`npm:NAME`),
 * or test files a runner regex picks (`tests:REGEX`).
 */
const MEASUREMENTS: Record<string, { why: string; needs: string[] }> = {
  'node bench/rolling.mjs --images 1000000 --rate 50': {
    why: 'a million images per server under load',
    needs: ['bench/rolling.mjs'],
  },
  'npm run bench -- --runs 10 --images 1000000 --populated-runs 3': {
    why: 'the benchmarks, hours',
    needs: ['npm:bench', 'bench/run.mjs'],
  },
  'node scripts/crash-trials.mjs sqlite postgresql mysql --trials 50 --seed 2026': {
    why: 'about 25 minutes',
    needs: ['scripts/crash-trials.mjs'],
  },
  'node scripts/crash-trials.mjs postgresql --trials 1 --images 3000 --seed 2026': {
    why: 'a replay of one crash trial',
    needs: ['scripts/crash-trials.mjs'],
  },
  'GLANCE_DB_FUZZ_ITERATIONS=3000 GLANCE_DB_FUZZ_SEED=20261125 node dist/test/fuzz.test.js': {
    why: '3000 fuzz iterations (the suite runs fewer)',
    needs: ['dist/test/fuzz.test.js', 'tests:^fuzz$'],
  },
  'npm run test:cluster                      # as root: start cluster + PgBouncer, run the cluster suites, stop them': {
    why: 'root, the Galera cluster and PgBouncer',
    needs: ['npm:test:cluster', 'scripts/test-cluster.sh'],
  },
  'scripts/galera.sh start                   # or by hand: three nodes on 127.0.0.1:13306-13308': {
    why: 'root',
    needs: ['scripts/galera.sh'],
  },
  'node scripts/galera-measure.mjs --images 200000      # writesets and commit stalls (about 3 minutes)': {
    why: 'the Galera cluster, minutes',
    needs: ['scripts/galera-measure.mjs'],
  },
  'GALERA_PORT_BASE=100 GALERA_DIR=/tmp/gdb-galera-h GALERA_BUFFER_POOL=2G GALERA_GCACHE=1G scripts/galera.sh start': {
    why: 'root',
    needs: ['scripts/galera.sh'],
  },
  'GALERA_PORT_BASE=100 GALERA_DIR=/tmp/gdb-galera-h node scripts/galera-measure.mjs --images 1000000': {
    why: 'the Galera cluster, about 30 minutes',
    needs: ['scripts/galera-measure.mjs'],
  },
  'GALERA_PORT_BASE=100 GALERA_DIR=/tmp/gdb-galera-h node scripts/galera-measure.mjs --images 1000000 --images-only --from 47':
    {
      why: 'the Galera cluster, about 9 minutes',
      needs: ['scripts/galera-measure.mjs'],
    },
  'node scripts/galera-conflict.mjs --images 50000 --trials 2   # certification conflicts, best effort': {
    why: 'the Galera cluster',
    needs: ['scripts/galera-conflict.mjs'],
  },
  'scripts/galera.sh stop': { why: 'root', needs: ['scripts/galera.sh'] },
  [`node --input-type=module -e "
import { acquireFileLock } from './dist/src/platform/file-lock.js';
const t = []; for (let i = 0; i < 200; i++) { const s = performance.now(); (await acquireFileLock('/tmp/x.lock', 1000, 'x'))(); t.push(performance.now() - s); }
t.sort((a, b) => a - b); console.log('median', t[100].toFixed(1), 'ms, p90', t[180].toFixed(1), 'ms');"`]: {
    why: 'a timing, for a quiet machine',
    needs: ['dist/src/platform/file-lock.js'],
  },
  'node scripts/sqlite-file-trials.mjs disk-full --trials 40 --seed 16': {
    why: 'root (tmpfs)',
    needs: ['scripts/sqlite-file-trials.mjs'],
  },
  'node scripts/sqlite-file-trials.mjs signals --trials 20 --seed 16': {
    why: 'root (tmpfs)',
    needs: ['scripts/sqlite-file-trials.mjs'],
  },
  'node scripts/sqlite-file-trials.mjs attack --trials 5': {
    why: 'root, 32,768 planted links a trial',
    needs: ['scripts/sqlite-file-trials.mjs'],
  },
  'node scripts/sqlite-file-trials.mjs concurrent-writers --trials 200 --seed 32': {
    why: '200 trials',
    needs: ['scripts/sqlite-file-trials.mjs'],
  },
  'GLANCE_DB_SECRETS_SHAPES=50000 GLANCE_DB_SECRETS_SEED=20261125 node dist/test/secrets.test.js': {
    why: '50,000 URL shapes (the suite runs fewer)',
    needs: ['dist/test/secrets.test.js', 'tests:^secrets$'],
  },
  [`python3 -c "print('database:\\n  url: sqlite:g.sqlite\\ndialects: [sqlite]\\nmigrations:\\n' + ''.join('  - version: %d.5\\n    name: Bad-Name\\n    description: d\\n    files: {sqlite: sql/x.sql}\\n' % i for i in range(100000)))" > big.yaml`]:
    { why: 'a measurement of the bounds', needs: ['tests:^bounds$'] },
  "/usr/bin/time -f '%e s %M KB' glance-db lint --config big.yaml": {
    why: 'a measurement of the bounds (GNU time)',
    needs: ['tests:^bounds$'],
  },
  'GLANCE_DB_LOCK_LEASE=2 node scripts/network-trials.mjs --trials 3 --io-timeout 2': {
    why: 'network trials, minutes',
    needs: ['scripts/network-trials.mjs'],
  },
  'node scripts/network-trials.mjs --trials 1                      # default --io-timeout 60 and lease 60': {
    why: 'network trials, minutes',
    needs: ['scripts/network-trials.mjs'],
  },
};

/** The database the examples' Glance config names (project() points /var/lib/glance into the project). */
const GLANCE_CONF_DB = 'sqlite:/var/lib/glance/glance.sqlite';

/** A database at 44 taken through the given rolling-upgrade phases. */
async function rollTo(p: Project, phases: string[]): Promise<void> {
  for (const cmd of ['sync 44', ...phases]) {
    const r = await p.cli(`glance-db ${cmd} --url ${GLANCE_CONF_DB}`);
    assert.is(r.code, 0, r.stderr);
  }
}

type Setup = (p: Project, servers: { pg?: TestDb; mysql?: TestDb }) => Promise<void> | void;
interface Example {
  setup?: Setup;
  code?: number;
  /** Needs this server; skipped loudly without it (failed with GLANCE_DB_REQUIRE_SERVERS). */
  server?: 'pg' | 'mysql';
  /**
   * Run as on a Glance host: in an empty working folder (no glance-db.yaml:
   * the installed manifest), with Glance's default config folders pointing
   * at the project's /etc/glance.
   */
  host?: boolean;
  check?: (p: Project, out: { stdout: string; stderr: string }) => Promise<void> | void;
}

const atVersion =
  (v: number, url = '') =>
  async (p: Project) => {
    const r = await p.cli(`glance-db sync ${v}${url ? ` --url ${url}` : ''}`);
    assert.is(r.code, 0, r.stderr);
  };
/** Glance's metadefs (the test fixtures) in the folder an example reads them from. */
const metadefsIn = (folder: string) => (p: Project) =>
  cpSync(join(ROOT, 'test', 'fixtures', 'metadefs'), join(p.dir, folder), { recursive: true });
const versionOf = async (p: Project, url = GLANCE_CONF_DB) => (await p.cli(`glance-db version --url ${url}`)).stdout;

const EXAMPLES: Record<string, Example> = {
  'npm ci && npx glance-db sync': {
    // npm ci is the install this suite runs in; npx finds the project's own bin.
    check: (p) => {
      assert.ok(existsSync(join(p.dir, 'glance.sqlite')));
      assert.is(p.run('npx glance-db version').stdout, `${LATEST}\n`);
    },
  },
  'glance-db sync --glance-config /etc/glance/glance-api.conf': {},
  'glance-db sync                                  # newest version, database from glance-db.yaml': {},
  'glance-db sync 48                               # stop at 48': {},
  "glance-db sync zed                              # stop where Glance zed's db sync stops (50)": {},
  'glance-db db sync 51 44                         # a Glance database built by hand at 44: record 42-44, run 45-51': {
    setup: async (p) => {
      const db = await openSqlite();
      db.exec(referenceSql(44, 'sqlite'));
      writeFileSync(join(p.dir, 'glance.sqlite'), db.export());
    },
  },
  'glance-db version --url sqlite:/var/lib/glance/glance.sqlite': {
    setup: atVersion(47, 'sqlite:/var/lib/glance/glance.sqlite'),
    check: (_, o) => assert.is(o.stdout, '47\n'),
  },
  "GLANCE_DB_URL='mysql+pymysql://glance:secret@db/glance?charset=utf8' glance-db upgrade 51": {
    server: 'mysql',
    setup: (p, s) => atVersion(45, s.mysql!.url)(p),
  },
  "glance-db sync --glance-config /etc/glance/glance-api.conf --backup   # URL from Glance's config, dump first": {
    setup: atVersion(44, 'sqlite:/var/lib/glance/glance.sqlite'),
    check: (_, o) => assert.match(o.stdout, /^backup: /m),
  },
  'glance-db plan --dialect mysql --from 44 --output upgrade.sql          # a script for the DBA': {
    check: (p) => assert.match(readFileSync(join(p.dir, 'upgrade.sql'), 'utf8'), `-- Version ${LATEST_LABEL}`),
  },
  'glance-db check || echo "not current: exit $?"                         # init containers, Ansible': {
    setup: atVersion(47),
    check: (_, o) => assert.match(o.stdout, 'not current: exit 13'),
  },
  'glance-db verify                                                       # list any hand-made schema change': {
    setup: atVersion(LATEST),
  },
  'glance-db lint                                                         # CI on pull requests': {},
  'glance-db sync --url postgresql://glance@db.example/glance --json': {
    server: 'pg',
    check: (_, o) => assert.is(JSON.parse(o.stdout).to, LATEST),
  },
  'glance-db downgrade': { code: 6 },
  // Rolling upgrade, in kolla-ansible's order: each step from the state the one before it leaves.
  'glance-db db check --glance-config /etc/glance/glance-api.conf; echo "exit $?"': {
    setup: atVersion(44, GLANCE_CONF_DB),
    check: (_, o) => assert.match(o.stdout, /Your first step is to run glance-db expand[^]*\nexit 3\n$/),
  },
  'glance-db expand --glance-config /etc/glance/glance-api.conf': {
    setup: atVersion(44, GLANCE_CONF_DB),
    check: (_, o) => assert.match(o.stdout, 'next: glance-db migrate --glance-config'),
  },
  'glance-db migrate --glance-config /etc/glance/glance-api.conf': {
    setup: (p) => rollTo(p, ['expand']),
    check: (_, o) => assert.match(o.stdout, 'migrated 45 add_visibility'),
  },
  'glance-db contract --glance-config /etc/glance/glance-api.conf': {
    setup: (p) => rollTo(p, ['expand', 'migrate']),
    check: (_, o) => assert.match(o.stdout, `database is at version ${LATEST}`),
  },
  // Deployment tools (docs/guide/deploy): glance-db where they run glance-manage, with no flags as they do.
  'glance-db db sync': {
    host: true,
    // The hardest place the tools put the connection: openstack-helm's mariadb-operator mode, where
    // only a glance.conf.d snippet names the database; a connection in glance-api.conf is overridden by it.
    setup: (p) => {
      writeFileSync(
        join(p.dir, 'etc-glance', 'glance-api.conf'),
        `[database]\nconnection = sqlite:///${join(p.dir, 'var-lib-glance', 'not-this.sqlite')}\n`,
      );
      mkdirSync(join(p.dir, 'etc-glance', 'glance.conf.d'));
      writeFileSync(
        join(p.dir, 'etc-glance', 'glance.conf.d', 'database.conf'),
        `[database]\nconnection = sqlite:///${join(p.dir, 'var-lib-glance', 'glance.sqlite')}\n`,
      );
    },
    check: async (p) => {
      assert.is(await versionOf(p), `${LATEST}\n`);
      assert.not.ok(existsSync(join(p.dir, 'var-lib-glance', 'not-this.sqlite')), 'the glance.conf.d snippet wins');
    },
  },
  // glance-manage's lines as written (docs/guide/command-line.md): the default files; oslo's options before the command.
  'glance-db db_sync': {
    host: true,
    check: async (p, o) => (
      assert.is(await versionOf(p), `${LATEST}\n`),
      assert.match(o.stdout, /\(from .*glance-api\.conf\)/)
    ),
  },
  'glance-db --config-file /etc/glance/glance-api.conf --config-dir /etc/glance/glance.conf.d db_load_metadefs /etc/glance/metadefs':
    {
      setup: async (p) => {
        await atVersion(LATEST, GLANCE_CONF_DB)(p);
        mkdirSync(join(p.dir, 'etc-glance', 'glance.conf.d'));
        metadefsIn('etc-glance/metadefs')(p);
      },
      check: (_, o) => assert.match(o.stdout, /added/),
    },
  'glance-db db load_metadefs /etc/glance/metadefs': {
    host: true,
    setup: async (p) => (await atVersion(LATEST, GLANCE_CONF_DB)(p), metadefsIn('etc-glance/metadefs')(p)),
    check: (_, o) => assert.match(o.stdout, /added/),
  },
  'glance-db db expand': {
    host: true,
    setup: atVersion(44, GLANCE_CONF_DB),
    check: (_, o) => assert.match(o.stdout, 'next: glance-db migrate'),
  },
  'glance-db db migrate': {
    host: true,
    setup: (p) => rollTo(p, ['expand']),
    check: (_, o) => assert.match(o.stdout, 'migrated 45 add_visibility'),
  },
  'glance-db db contract': {
    host: true,
    setup: (p) => rollTo(p, ['expand', 'migrate']),
    check: async (p, o) => (
      assert.match(o.stdout, `database is at version ${LATEST}`),
      assert.is(await versionOf(p), `${LATEST}\n`)
    ),
  },
  'glance-db db load_metadefs --glance-config /etc/glance/glance-api.conf --glance-config /etc/glance/glance.conf.d /var/lib/openstack/etc/glance/metadefs':
    {
      setup: async (p) => {
        await atVersion(LATEST, GLANCE_CONF_DB)(p);
        mkdirSync(join(p.dir, 'etc-glance', 'glance.conf.d'));
        metadefsIn('var-lib-openstack/etc/glance/metadefs')(p);
      },
      check: (_, o) => assert.match(o.stdout, /added/),
    },
  'glance-db db purge --age_in_days 30 --max_rows 100 >>/var/log/glance/glance-rowsflush.log 2>&1': {
    host: true,
    setup: atVersion(LATEST, GLANCE_CONF_DB),
    check: (p) =>
      assert.match(
        readFileSync(join(p.dir, 'var-log-glance', 'glance-rowsflush.log'), 'utf8'),
        /^tasks: 0 row\(s\) deleted/m,
      ),
  },
  'glance-db db purge_images_table --age_in_days 30 --max_rows 100 >>/var/log/glance/glance-images-rowsflush.log 2>&1':
    {
      host: true,
      setup: atVersion(LATEST, GLANCE_CONF_DB),
      check: (p) =>
        assert.match(
          readFileSync(join(p.dir, 'var-log-glance', 'glance-images-rowsflush.log'), 'utf8'),
          /^images: 0 row\(s\) deleted/m,
        ),
    },
  'glance-db db sync --glance-config /etc/glance/glance-api.conf': {
    check: async (p) => assert.is(await versionOf(p), `${LATEST}\n`),
  },
  'glance-db db load_metadefs --glance-config /etc/glance/glance-api.conf /etc/glance/metadefs': {
    setup: async (p) => (await atVersion(LATEST, GLANCE_CONF_DB)(p), metadefsIn('etc-glance/metadefs')(p)),
    check: (_, o) => assert.match(o.stdout, /added/),
  },
};

/**
 * A fresh project; `glance-db` on PATH is the built CLI; outside names point into the project.
 * withPackage: the package itself too, as in a clone, for an example that runs npx.
 */
function project(servers: { pg?: TestDb; mysql?: TestDb }, withPackage: boolean): Project {
  const dir = makeProject();
  // For npx: the package itself, as in a clone (npx runs its prepare script, the build, into this copy).
  // Only there: copying src/ and the rest for each of some forty examples cost seconds.
  if (withPackage)
    for (const f of ['package.json', 'tsconfig.json', 'bin', 'src', 'scripts', 'schema'])
      cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const shim = join(dir, '.bin');
  mkdirSync(shim);
  writeFileSync(join(shim, 'glance-db'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(shim, 'glance-db'), 0o755);
  for (const d of ['etc-glance', 'var-lib-glance', 'var-lib-openstack', 'var-log-glance', 'host'])
    mkdirSync(join(dir, d));
  writeFileSync(
    join(dir, 'etc-glance', 'glance-api.conf'),
    `[database]\nconnection = sqlite:///${join(dir, 'var-lib-glance', 'glance.sqlite')}\n`,
  );
  const rewrite = (line: string) => {
    // `npm ci` is the install this suite already runs in (it would reinstall the shared node_modules).
    let out = line.replace(/^npm ci && (?=npx glance-db )/, '');
    // One pass, so that /var/lib/openstack/etc/glance/ is not also taken for /etc/glance/.
    const inside: Record<string, string> = {
      '/etc/glance/': 'etc-glance',
      '/var/lib/glance/': 'var-lib-glance',
      '/var/lib/openstack/': 'var-lib-openstack',
      '/var/log/glance/': 'var-log-glance',
    };
    out = out.replace(
      /\/var\/lib\/openstack\/|\/var\/lib\/glance\/|\/var\/log\/glance\/|\/etc\/glance\//g,
      (outside) => `${join(dir, inside[outside])}/`,
    );
    if (servers.pg) out = out.replace('postgresql://glance@db.example/glance', servers.pg.url);
    if (servers.mysql)
      out = out.replace(
        'mysql+pymysql://glance:secret@db/glance?charset=utf8',
        `${servers.mysql.url.replace(/^mysql:/, 'mysql+pymysql:')}?charset=utf8`,
      );
    return out;
  };
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PATH: `${shim}:${process.env.PATH}`,
    GLANCE_DB_GLANCE_CONFIG_DIRS: '',
    GLANCE_DB_GLANCE_SITE_PACKAGES: '',
  };
  delete env.GLANCE_DB_URL;
  const hostEnv = { ...env, GLANCE_DB_GLANCE_CONFIG_DIRS: join(dir, 'etc-glance') };
  const sh = (line: string, cwd: string, e: Record<string, string>) => {
    const r = spawnSync('sh', ['-c', rewrite(line)], { cwd, env: e, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const cli = (line: string) => {
    const words = rewrite(line).split(/\s+/);
    // Only plain words: a line that needs the shell is an example, for run().
    assert.ok(
      words[0] === 'glance-db' && words.every((w) => /^[\w:/.+@?=-]+$/.test(w)),
      `not a plain glance-db line: ${line}`,
    );
    return runCli(words.slice(1), { cwd: dir, env: { GLANCE_DB_GLANCE_SITE_PACKAGES: '' } });
  };
  return {
    dir,
    run: (line) => sh(line, dir, env),
    runOnHost: (line) => sh(line, join(dir, 'host'), hostEnv),
    cli,
  };
}

test('every shell example in README.md and docs/ is known here (run below, run by the test named, or a measurement)', () => {
  const unknown = lines
    .filter((l) => !(l in EXAMPLES) && !(l in ELSEWHERE) && !(l in MEASUREMENTS))
    .map((l) => `${WHERE.get(l)!.join(', ')}: ${l}`);
  assert.equal(unknown, [], 'examples without a test');
  for (const l of [...Object.keys(EXAMPLES), ...Object.keys(ELSEWHERE), ...Object.keys(MEASUREMENTS)])
    assert.ok(WHERE.has(l), `no longer in README.md or docs/: ${l}`);
});

test('shell examples are ```sh blocks (no other shell fence lets one escape the test)', () => {
  for (const page of PAGES)
    for (const f of fences(page))
      assert.not.ok(
        /^(bash|shell|console|zsh|shell-session)$/.test(f.info),
        `${page}:${f.start}: \`\`\`${f.info}: write \`\`\`sh (an example) or \`\`\`text (a quotation)`,
      );
});

test('what each measurement rerun names exists', () => {
  const scripts = JSON.parse(text('package.json')).scripts as Record<string, string>;
  const testNames = readdirSync(join(ROOT, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.test.ts'.length));
  for (const [line, m] of Object.entries(MEASUREMENTS)) {
    assert.ok(m.needs.length > 0, line);
    for (const need of m.needs) {
      if (need.startsWith('npm:')) assert.ok(scripts[need.slice(4)], `${line}: npm script ${need.slice(4)}`);
      else if (need.startsWith('tests:'))
        assert.ok(
          testNames.some((n) => new RegExp(need.slice(6)).test(n)),
          `${line}: a test file matching ${need.slice(6)}`,
        );
      else assert.ok(existsSync(join(ROOT, need)), `${line}: ${need}`);
    }
  }
});

for (const line of lines.filter((l) => l in EXAMPLES)) {
  const ex = EXAMPLES[line];
  test(`${WHERE.get(line)![0]}: ${line.replace(/\s+#.*$/, '')}`, async () => {
    const env = ex.server === 'pg' ? postgresEnv : ex.server === 'mysql' ? mysqlEnv : null;
    if (env && !env.available()) {
      if (process.env.GLANCE_DB_REQUIRE_SERVERS) assert.unreachable(`${env.dialect} required`);
      return console.log(`  SKIP (no ${env.dialect} server): ${line}`);
    }
    const server = env ? await env.create() : undefined;
    const servers = ex.server === 'pg' ? { pg: server } : ex.server === 'mysql' ? { mysql: server } : {};
    const p = project(servers, /\bnpx\b/.test(line));
    try {
      await ex.setup?.(p, servers);
      const r = ex.host ? p.runOnHost(line) : p.run(line);
      assert.is(r.code, ex.code ?? 0, `${line}\n${r.stdout}\n${r.stderr}`);
      await ex.check?.(p, r);
    } finally {
      removeProject(p.dir);
      await server?.drop();
    }
  });
}

// ---- links

/**
 * GitHub's anchor for a heading (github-slugger): the heading's text as
 * shown (links and code marks removed), lower-cased, every character but
 * letters, digits, marks, '_', '-' and ' ' dropped, spaces turned into '-';
 * a repeated anchor gets -1, -2, ...
 */
function slug(heading: string): string {
  const shown = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .replace(/[`*]/g, '');
  return shown
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** A page's text with its fenced blocks and inline code blanked out (links inside code are no links). */
function prose(page: string): string {
  const out: string[] = [];
  let inFence = false;
  for (const line of text(page).split('\n')) {
    if (/^\s*```/.test(line)) {
      inFence = !inFence;
      out.push('');
    } else out.push(inFence ? '' : line);
  }
  return out.join('\n').replace(/`[^`]*`/g, (m) => m.replace(/[^\n]/g, ' '));
}

const anchorCache = new Map<string, Set<string>>();
function anchors(page: string): Set<string> {
  const cached = anchorCache.get(page);
  if (cached) return cached;
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const raw = text(page).split('\n');
  prose(page)
    .split('\n')
    .forEach((line, i) => {
      // A heading outside code; its text read from the page itself (prose() blanked its code spans).
      if (!/^#{1,6}\s/.test(line)) return;
      const base = slug(raw[i].replace(/^#{1,6}\s+/, '').replace(/\s+#+\s*$/, ''));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    });
  anchorCache.set(page, out);
  return out;
}

/** Every relative link of a page: inline `[text](target)`, images, and reference definitions. */
function links(page: string): { target: string; line: number }[] {
  const body = prose(page);
  const lineOf = (index: number) => body.slice(0, index).split('\n').length;
  const out: { target: string; line: number }[] = [];
  for (const m of body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    out.push({ target: m[1], line: lineOf(m.index!) });
  for (const m of body.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm))
    out.push({ target: m[1], line: lineOf(m.index!) });
  return out.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target));
}

/** Where a link goes wrong, or null. */
function brokenLink(page: string, target: string, anchorsOf: (page: string) => Set<string> = anchors): string | null {
  const hash = target.indexOf('#');
  const path = hash >= 0 ? target.slice(0, hash) : target;
  const anchor = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : null;
  const file = path ? relative(ROOT, join(ROOT, dirname(page), decodeURIComponent(path))) : page;
  if (file.startsWith('..')) return `${target}: outside the repository`;
  if (!existsSync(join(ROOT, file))) return `${target}: no such file or folder (${file})`;
  if (anchor === null) return null;
  if (!file.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  return anchorsOf(file).has(anchor) ? null : `${target}: no heading in ${file} has the anchor #${anchor}`;
}

test('the anchor of a heading is the one GitHub makes', () => {
  assert.is(slug('Schema drift and `--accept-drift`'), 'schema-drift-and---accept-drift');
  assert.is(slug("Where each version's work goes"), 'where-each-versions-work-goes');
  assert.is(slug('Single executable (no Node.js on the host)'), 'single-executable-no-nodejs-on-the-host');
  assert.is(slug('alembic_version kept in step'), 'alembic_version-kept-in-step');
  assert.is(slug("`check`'s state"), 'checks-state');
  assert.is(slug('SQLite files as hosts hand them over (issue 16)'), 'sqlite-files-as-hosts-hand-them-over-issue-16');
  assert.is(slug('Galera clusters and PgBouncer'), 'galera-clusters-and-pgbouncer');
  assert.is(slug('Drafts, `--base REF`'), 'drafts---base-ref');
  assert.is(slug('[Linked](x.md) heading'), 'linked-heading');
});

test('a broken link or anchor is found (the checker below can fail)', () => {
  assert.is(brokenLink('README.md', 'docs/reliability.md'), null);
  assert.is(brokenLink('README.md', '#quick-start'), null);
  assert.is(brokenLink('docs/reliability.md', '#how-to-rerun'), null);
  assert.is(brokenLink('docs/reliability.md', '../schema/variants.json'), null);
  assert.match(brokenLink('README.md', '#quick-starts') ?? '', 'no heading');
  assert.match(brokenLink('README.md', 'docs/no-such-page.md') ?? '', 'no such file');
  assert.match(brokenLink('docs/reliability.md', '../README.md#no-such-heading') ?? '', 'no heading');
  assert.match(brokenLink('docs/reliability.md', '../../outside.md') ?? '', 'outside');
  assert.match(brokenLink('README.md', 'package.json#scripts') ?? '', 'not Markdown');
});

test('every relative link and #anchor in README.md and docs/ resolves', () => {
  const broken: string[] = [];
  let count = 0;
  for (const page of PAGES) {
    for (const l of links(page)) {
      count++;
      const why = brokenLink(page, l.target);
      if (why) broken.push(`${page}:${l.line}: ${why}`);
    }
  }
  assert.equal(broken, []);
  assert.ok(count > 30, `only ${count} links found: the link scanner is broken`);
});

test('each page of docs/guide, docs/dialects, docs/reference and docs/contributing opens with who it is for and what it answers', () => {
  for (const page of PAGES.filter((p) => /^docs\/(guide|dialects|reference|contributing)\//.test(p))) {
    const opening = text(page).split('\n\n').slice(1, 2).join('');
    assert.match(
      opening,
      /\*\*For\*\*[^]*\*\*Answers:\*\*/,
      `${page}: the paragraph after the title says **For** whom and what it **Answers:**`,
    );
  }
});

test.run();
