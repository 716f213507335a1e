// Every shell example in README.md runs here, as written except for the
// names of outside things (Glance's config and data folders, database
// servers), each in a fresh project with what it presupposes. An example
// this file does not know fails the test: README and the tool stay in step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, makeProject, referenceSql, removeProject, openSqlite } from './helpers.js';
import { mysqlEnv, postgresEnv, type TestDb } from './dialects.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
const lines = blocks.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter(Boolean);

interface Project {
  dir: string;
  run(line: string): { code: number | null; stdout: string; stderr: string };
}

/** Examples that run elsewhere in the suite, and where. */
const ELSEWHERE: Record<string, string> = {
  'npm test': 'the suite itself',
  'npm ci && npm run package     # prints the tarball, its size and its SHA-256': 'test/airgap (npm run package)',
  'npm install -g ./glance-db-X.tgz --offline': 'test/airgap (installs the tarball offline into a fresh prefix)',
  'install -m 755 glance-db-linux-x64 /usr/local/bin/glance-db': 'test/airgap (the single executable copied into an empty folder and run with no PATH and a fresh HOME)',
  'npm ci && npm run package && docker build -t glance-db:0.1.0 .': 'test/container (the Dockerfile, built where Docker runs, else checked and its steps run from the tarball)',
  'glance-db metadefs load                                               # after sync: Glance\'s definitions from /etc/glance/metadefs': 'test/metadefs (load from a folder of fixture namespaces, on every dialect)',
  'glance-db metadefs diff /usr/share/glance/metadefs --prefer-new       # before an upgrade: what would change': 'test/metadefs (diff with --prefer-new against loaded rows)',
  'glance-db metadefs load --merge --prefer-new                          # bring updated definitions into a running cloud': 'test/metadefs (load --merge --prefer-new)',
  'glance-db metadefs export ./metadefs-backup && glance-db metadefs unload --yes': 'test/metadefs (export, unload --yes, reload: the round trip)',
  'glance-db purge --age-in-days 30 --max-rows 1000                      # a CronJob; safe to interrupt and rerun': 'test/purge (batches, counts per table, a killed run finished by the next)',
  'glance-db purge-images --age-in-days 365 --dry-run': 'test/purge (purge-images, --dry-run counts)',
  'sqlite3 /var/lib/glance/glance.sqlite < upgrade.sql': 'test/conformance (re-run every plan script: sqlite3 db < FILE, once and again)',
  'psql -v ON_ERROR_STOP=1 -h db -U glance -d glance -f upgrade.sql': 'test/conformance (re-run every plan script: psql -v ON_ERROR_STOP=1 -f FILE, once and again)',
  'mariadb -h db -u glance -p glance < upgrade.sql': 'test/conformance (re-run every plan script: mariadb db < FILE, once and again)',
  'glance-db lint --base origin/main                                      # CI: and nothing released on main changed': 'test/lint-base (lint --base main in a git repository whose main branch holds the released lock)',
};

/** The database the examples' Glance config names (project() points /var/lib/glance into the project). */
const GLANCE_CONF_DB = 'sqlite:/var/lib/glance/glance.sqlite';

/** A database at 44 taken through the given rolling-upgrade phases. */
function rollTo(p: Project, phases: string[]): void {
  for (const cmd of ['sync 44', ...phases]) {
    const r = p.run(`glance-db ${cmd} --url ${GLANCE_CONF_DB}`);
    assert.is(r.code, 0, r.stderr);
  }
}

type Setup = (p: Project, servers: { pg?: TestDb; mysql?: TestDb }) => Promise<void> | void;
interface Example {
  setup?: Setup;
  code?: number;
  /** Needs this server; skipped loudly without it (failed with GLANCE_DB_REQUIRE_SERVERS). */
  server?: 'pg' | 'mysql';
  check?: (p: Project, out: { stdout: string; stderr: string }) => Promise<void> | void;
}

const atVersion = (v: number, url = '') => (p: Project) => {
  const r = p.run(`glance-db sync ${v}${url ? ` --url ${url}` : ''}`);
  assert.is(r.code, 0, r.stderr);
};

const EXAMPLES: Record<string, Example> = {
  'npm ci && npx glance-db sync': {
    // npm ci is the install this suite runs in; npx finds the project's own bin.
    check: (p) => {
      assert.ok(existsSync(join(p.dir, 'glance.sqlite')));
      assert.is(p.run('npx glance-db version').stdout, '51\n');
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
  'glance-db version --url sqlite:/var/lib/glance/glance.sqlite': { setup: (p) => atVersion(47, 'sqlite:/var/lib/glance/glance.sqlite')(p), check: (_, o) => assert.is(o.stdout, '47\n') },
  "GLANCE_DB_URL='mysql+pymysql://glance:secret@db/glance?charset=utf8' glance-db upgrade 51": { server: 'mysql', setup: (p, s) => atVersion(45, s.mysql!.url)(p) },
  "glance-db sync --glance-config /etc/glance/glance-api.conf --backup   # URL from Glance's config, dump first": { setup: (p) => atVersion(44, 'sqlite:/var/lib/glance/glance.sqlite')(p), check: (_, o) => assert.match(o.stdout, /^backup: /m) },
  'glance-db plan --dialect mysql --from 44 --output upgrade.sql          # a script for the DBA': { check: (p) => assert.match(readFileSync(join(p.dir, 'upgrade.sql'), 'utf8'), '-- Version 51 add_cache_tables') },
  'glance-db check || echo "not current: exit $?"                         # init containers, Ansible': { setup: atVersion(47), check: (_, o) => assert.match(o.stdout, 'not current: exit 13') },
  'glance-db verify                                                       # list any hand-made schema change': { setup: atVersion(51) },
  'glance-db lint                                                         # CI on pull requests': {},
  'glance-db sync --url postgresql://glance@db.example/glance --json': { server: 'pg', check: (_, o) => assert.is(JSON.parse(o.stdout).to, 51) },
  'glance-db downgrade': { code: 6 },
  // Rolling upgrade, in kolla-ansible's order: each step from the state the one before it leaves.
  'glance-db db check --glance-config /etc/glance/glance-api.conf; echo "exit $?"': { setup: atVersion(44, GLANCE_CONF_DB), check: (_, o) => assert.match(o.stdout, /Your first step is to run glance-db expand[^]*\nexit 3\n$/) },
  'glance-db expand --glance-config /etc/glance/glance-api.conf': { setup: atVersion(44, GLANCE_CONF_DB), check: (_, o) => assert.match(o.stdout, 'next: glance-db migrate --glance-config') },
  'glance-db migrate --glance-config /etc/glance/glance-api.conf': { setup: (p) => rollTo(p, ['expand']), check: (_, o) => assert.match(o.stdout, 'migrated 45 add_visibility') },
  'glance-db contract --glance-config /etc/glance/glance-api.conf': { setup: (p) => rollTo(p, ['expand', 'migrate']), check: (_, o) => assert.match(o.stdout, 'database is at version 51') },
};

/** A fresh project; `glance-db` on PATH is the built CLI; outside names point into the project. */
function project(servers: { pg?: TestDb; mysql?: TestDb }): Project {
  const dir = makeProject();
  // For npx: the package itself, as in a clone (npx runs its prepare script, the build, into this copy).
  for (const f of ['package.json', 'tsconfig.json', 'bin', 'src', 'scripts', 'schema']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const shim = join(dir, '.bin');
  mkdirSync(shim);
  writeFileSync(join(shim, 'glance-db'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(shim, 'glance-db'), 0o755);
  mkdirSync(join(dir, 'etc-glance'));
  mkdirSync(join(dir, 'var-lib-glance'));
  writeFileSync(join(dir, 'etc-glance', 'glance-api.conf'), `[database]\nconnection = sqlite:///${join(dir, 'var-lib-glance', 'glance.sqlite')}\n`);
  const rewrite = (line: string) => {
    // `npm ci` is the install this suite already runs in (it would reinstall the shared node_modules).
    let out = line.replace(/^npm ci && (?=npx glance-db )/, '').replaceAll('/etc/glance/', `${join(dir, 'etc-glance')}/`).replaceAll('/var/lib/glance/', `${join(dir, 'var-lib-glance')}/`);
    if (servers.pg) out = out.replace('postgresql://glance@db.example/glance', servers.pg.url);
    if (servers.mysql) out = out.replace('mysql+pymysql://glance:secret@db/glance?charset=utf8', `${servers.mysql.url.replace(/^mysql:/, 'mysql+pymysql:')}?charset=utf8`);
    return out;
  };
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PATH: `${shim}:${process.env.PATH}`, GLANCE_DB_GLANCE_CONFIG_DIRS: '', GLANCE_DB_GLANCE_SITE_PACKAGES: '' };
  delete env.GLANCE_DB_URL;
  return {
    dir,
    run: (line) => {
      const r = spawnSync('sh', ['-c', rewrite(line)], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

test('every shell example in README.md is known here (run below, or run by the test named)', () => {
  const unknown = lines.filter((l) => !(l in EXAMPLES) && !(l in ELSEWHERE));
  assert.equal(unknown, [], 'README examples without a test');
  for (const l of Object.keys(EXAMPLES)) assert.ok(lines.includes(l), `no longer in README: ${l}`);
});

for (const line of lines.filter((l) => l in EXAMPLES)) {
  const ex = EXAMPLES[line];
  test(`README: ${line.replace(/\s+#.*$/, '')}`, async () => {
    const env = ex.server === 'pg' ? postgresEnv : ex.server === 'mysql' ? mysqlEnv : null;
    if (env && !env.available()) {
      if (process.env.GLANCE_DB_REQUIRE_SERVERS) assert.unreachable(`${env.dialect} required`);
      return console.log(`  SKIP (no ${env.dialect} server): ${line}`);
    }
    const server = env ? await env.create() : undefined;
    const servers = ex.server === 'pg' ? { pg: server } : ex.server === 'mysql' ? { mysql: server } : {};
    const p = project(servers);
    try {
      await ex.setup?.(p, servers);
      const r = p.run(line);
      assert.is(r.code, ex.code ?? 0, `${line}\n${r.stdout}\n${r.stderr}`);
      await ex.check?.(p, r);
    } finally {
      removeProject(p.dir);
      await server?.drop();
    }
  });
}

test.run();
