// The real glance-manage of the Glance installed on the host (Debian's
// glance-common; zed in CI), for the hand-back and release suites, and the
// starting states it builds, cached (issue 30). A glance-manage run costs
// ~2 s of CPU (Python start-up, Glance and Alembic imports), so a state that
// glance-manage builds only to set a test up (`db sync` from empty, `db
// upgrade` then `db expand`) is built once per test file and dialect and each
// test gets an exact copy of it (test/clone-db.ts); the run a test is about
// (the hand-back, glance-manage's check or contract verdict) stays a real
// glance-manage process against the test's own database.
//
// /usr/bin/glance-manage; GLANCE_DB_GLANCE_MANAGE overrides. With
// GLANCE_DB_TEST_SPAWN_LOG set (test/spawn-log.mjs), each run appends a line
// "FILE glance-manage ARGS", so the runs can be counted.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloner } from './clone-db.js';
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
export function glanceManage(url: string, args: string[], cwd?: string): CliResult {
  if (!confDir) {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-glance-manage-'));
    confDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const conf = join(confDir, `glance-${++n}.conf`);
  writeFileSync(conf, `[DEFAULT]\nuse_stderr = true\n[database]\nconnection = ${sqlalchemyUrl(url)}\n`);
  const log = process.env.GLANCE_DB_TEST_SPAWN_LOG;
  if (log) appendFileSync(log, `${process.env.GLANCE_DB_TEST_SPAWN_PARENT ?? '?'} glance-manage ${args.join(' ')}\n`);
  const r = spawnSync(GLANCE_MANAGE, ['--config-file', conf, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs glance-manage and throws with its output unless it exits 0: for building a starting state. */
export function glanceManageOk(url: string, args: string[]): void {
  const r = glanceManage(url, args);
  if (r.code !== 0) throw new Error(`glance-manage ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
}

interface Built {
  source: TestDb;
  copy: (target: TestDb) => void;
}
const built = new Map<string, Promise<Built>>();

/**
 * Puts the starting state `key` into `db`, a fresh empty database: the first
 * time in this process `build` makes it in a database of its own, kept until
 * dropStates(); every call copies that database into `db`. `build` must give
 * the same state every time for the same key.
 */
export async function startFrom(
  env: DialectEnv,
  key: string,
  build: (db: TestDb) => Promise<void>,
  db: TestDb,
): Promise<TestDb> {
  const id = `${env.dialect}:${env.label ?? ''}:${key}`;
  let state = built.get(id);
  if (!state) {
    state = (async () => {
      const source = await env.create();
      try {
        await build(source);
        return { source, copy: await cloner(env, source) };
      } catch (err) {
        built.delete(id);
        await source.drop();
        throw err;
      }
    })();
    built.set(id, state);
  }
  (await state).copy(db);
  return (await state).source;
}

/** Drops the databases startFrom built (a suite's after hook). */
export async function dropStates(): Promise<void> {
  const all = [...built.values()];
  built.clear();
  for (const s of all) await (await s.catch(() => null))?.source.drop();
}

/** glance-manage db sync from an empty database: zed's schema, as glance-manage builds it. */
export const ZED_SYNC = async (db: TestDb) => glanceManageOk(db.url, ['db', 'sync']);
