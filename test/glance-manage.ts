// The real glance-manage of the Glance installed on the host (Debian's
// glance-common; zed in CI), for the hand-back and release suites, and the
// starting states it builds, cached (issue 30). A glance-manage run costs
// ~2 s of CPU (Python start-up, Glance and Alembic imports), so a state that
// glance-manage builds only to set a test up (`db sync` from empty, `db
// upgrade` then `db expand`) is built once per run of test/run.mjs and dialect
// (once per file when a file runs on its own) and each test gets an exact copy
// of it (test/clone-db.ts); the run a test is about
// (the hand-back, glance-manage's check or contract verdict) stays a real
// glance-manage process against the test's own database.
//
// /usr/bin/glance-manage; GLANCE_DB_GLANCE_MANAGE overrides. Runs go through
// a fork server that has Glance imported already (test/glance-manage-fork.ts;
// GLANCE_DB_TEST_GLANCE_MANAGE=process: real processes). With
// GLANCE_DB_TEST_SPAWN_LOG set (test/spawn-log.mjs), each run appends a line
// "FILE glance-manage ARGS", so the runs can be counted.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { cloner, sourceAt, type Source } from './clone-db.js';
import { POPULATE_V44 } from './conformance.js';
import { runGlanceManage, type How } from './glance-manage-fork.js';
import type { DialectEnv, TestDb } from './dialects.js';
import type { CliResult } from './helpers.js';

export const GLANCE_MANAGE = process.env.GLANCE_DB_GLANCE_MANAGE || '/usr/bin/glance-manage';

/** SQLAlchemy's URL for a test database URL. */
export function sqlalchemyUrl(url: string): string {
  if (url.startsWith('sqlite:')) return `sqlite:///${url.slice('sqlite:'.length)}`;
  return url.replace(/^mysql:\/\//, 'mysql+pymysql://').replace(/^postgresql:\/\//, 'postgresql+psycopg2://');
}

let confDir: string | null = null;
let n = 0;

/** Runs glance-manage with a config file whose [database] connection is `url` (its log lines on stderr). */
export function glanceManage(url: string, args: string[], cwd?: string, how: How = 'auto'): CliResult {
  if (!confDir) {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-glance-manage-'));
    confDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const conf = join(confDir, `glance-${++n}.conf`);
  writeFileSync(conf, `[DEFAULT]\nuse_stderr = true\n[database]\nconnection = ${sqlalchemyUrl(url)}\n`);
  return runGlanceManage(GLANCE_MANAGE, ['--config-file', conf, ...args], cwd, 600_000, how);
}

/** Runs glance-manage to build a starting state: it must exit 0. */
function glanceManageOk(db: TestDb, args: string[]): void {
  const r = glanceManage(db.url, args);
  assert.is(r.code, 0, `glance-manage ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
}

/**
 * Whether a suite that needs glance-manage (at `path`) and the dialect's server can go on. Without glance-manage it
 * says so and skips, or fails under GLANCE_DB_REQUIRE_GLANCE=1 (CI, .ci/run); without the server it runs empty.
 */
export function glanceManageReady(s: Test, what: string, env: DialectEnv, path = GLANCE_MANAGE): boolean {
  if (!existsSync(path)) {
    if (process.env.GLANCE_DB_REQUIRE_GLANCE === '1')
      s('glance-manage is installed (GLANCE_DB_REQUIRE_GLANCE=1)', () =>
        assert.unreachable(`${path} is missing: install glance-common and python3-glance (apt), as .ci/run does`),
      );
    else
      process.stderr.write(
        `skipped: ${what} on ${env.dialect}: ${path} is not installed (apt install glance-common python3-glance)\n`,
      );
  }
  if (existsSync(path) && env.available()) return true;
  s.run();
  return false;
}

/** Alembic's heads in alembic_version, sorted. */
export const alembic = async (db: Pick<TestDb, 'rows'>) =>
  (await db.rows('SELECT version_num FROM alembic_version')).map((r) => String(r.version_num)).sort();

/** Every image's visibility by id (null where none is set). */
export const visibility = async (db: Pick<TestDb, 'rows'>) =>
  Object.fromEntries(
    (await db.rows('SELECT id, visibility FROM images')).map((x) => [
      x.id,
      x.visibility === null ? null : String(x.visibility),
    ]),
  );

/** The starting states glance-manage builds, by name: the same name is the same build in every file. */
export const STATES = {
  /** glance-manage db sync from an empty database: zed's schema as glance-manage builds it. */
  'zed-sync': async (db: TestDb) => glanceManageOk(db, ['db', 'sync']),
  /** glance-manage built 44 (db upgrade --version mitaka02), Ocata-era rows, then ran its db expand to zed. */
  'mitaka02-populated-expand': async (db: TestDb) => {
    glanceManageOk(db, ['db', 'upgrade', '--version', 'mitaka02']);
    await db.exec(POPULATE_V44);
    glanceManageOk(db, ['db', 'expand']);
  },
};
export type StateName = keyof typeof STATES;

interface Built {
  source: Source;
  copy: (target: Pick<TestDb, 'url'>) => Promise<void>;
  /** Built by this process, dropped by dropStates(); else the run's, dropped by test/run.mjs at its end. */
  own?: TestDb;
}
const built = new Map<string, Promise<Built>>();
const RUN_CACHE = process.env.GLANCE_DB_TEST_RUN_CACHE;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A state of this process's own: built in a database of its own. */
async function buildOwn(env: DialectEnv, build: (db: TestDb) => Promise<void>): Promise<Built> {
  const source = await env.create();
  try {
    await build(source);
    return { source, copy: await cloner(env, source), own: source };
  } catch (err) {
    await source.drop();
    throw err;
  }
}

/**
 * A state of the run's (test/run.mjs sets GLANCE_DB_TEST_RUN_CACHE): the first
 * file to need it builds it (a folder KEY.lock says so), writes KEY.drop (what
 * test/run.mjs drops at the end of the run) then KEY.json; the others wait for
 * KEY.json, or KEY.failed.
 */
async function buildShared(dir: string, env: DialectEnv, key: string, build: (db: TestDb) => Promise<void>) {
  const base = join(dir, key.replace(/[^\w.-]/g, '_'));
  let mine = true;
  try {
    mkdirSync(`${base}.lock`);
  } catch {
    mine = false;
  }
  if (!mine) {
    for (const until = Date.now() + 900_000; Date.now() < until; await sleep(200)) {
      if (existsSync(`${base}.failed`)) throw new Error(`${key}: ${readFileSync(`${base}.failed`, 'utf8')}`);
      if (existsSync(`${base}.json`)) {
        const source = sourceAt((JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { url: string }).url);
        return { source, copy: await cloner(env, source) };
      }
    }
    throw new Error(`${key}: another test file did not finish building it in 15 minutes`);
  }
  const source = await env.create();
  writeFileSync(`${base}.drop`, JSON.stringify({ dialect: env.dialect, url: source.url }));
  try {
    await build(source);
  } catch (err) {
    writeFileSync(`${base}.failed`, String(err));
    throw err;
  }
  const copy = await cloner(env, source);
  writeFileSync(`${base}.json`, JSON.stringify({ url: source.url }));
  return { source, copy };
}

/**
 * Puts the starting state `name` into `db`, a fresh empty database: built the
 * first time it is asked for in this run (or, outside test/run.mjs, in this
 * process) in a database of its own, then copied into `db` every time.
 * Returns the database it was copied from.
 */
export async function startFrom(env: DialectEnv, name: StateName, db: Pick<TestDb, 'url'>): Promise<Source> {
  const key = `${env.dialect}-${env.label ?? ''}-${name}`;
  let state = built.get(key);
  if (!state) {
    state = RUN_CACHE ? buildShared(RUN_CACHE, env, key, STATES[name]) : buildOwn(env, STATES[name]);
    built.set(key, state);
    state.catch(() => built.delete(key));
  }
  await (await state).copy(db);
  return (await state).source;
}

/** Drops the databases startFrom built for this process alone (a suite's after hook). */
export async function dropStates(): Promise<void> {
  const all = [...built.values()];
  built.clear();
  for (const s of all) await (await s.catch(() => null))?.own?.drop();
}
