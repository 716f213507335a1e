// One interface over the three databases for the conformance suite: a fresh
// database, a way to run SQL on it, to read rows and to introspect it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDriver } from '../src/dialects/create-driver.js';
import type { Driver } from '../src/core/driver/driver.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { introspect } from '../src/core/introspect/index.js';
import type { Dialect } from '../src/dialects/index.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { openSqlite, referencePath, referenceSql } from './helpers.js';
import {
  adminSql,
  clientArgs,
  clientEnv,
  createDatabase,
  dropDatabase,
  loadSqlFile,
  serverAvailable,
} from './servers.js';

const client = (cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, env, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

export interface TestDb {
  url: string;
  /** Runs one or more statements with the dialect's own tooling. */
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<Record<string, unknown>[]>;
  model(): Promise<SchemaModel>;
  /** Loads a reference dump (Glance's own schema at that version). */
  loadReference(version: number): Promise<void>;
  /** Runs a script the documented way, with the dialect's own client (sqlite3 db < FILE, psql -v ON_ERROR_STOP=1 -f FILE, mariadb db < FILE). */
  runScript(path: string): { code: number; stdout: string; stderr: string };
  drop(): Promise<void>;
}

export interface DialectEnv {
  dialect: Dialect;
  /** Shown in the suite name when the environment is more than its dialect (a cluster, a pooler). */
  label?: string;
  available(): boolean;
  create(): Promise<TestDb>;
}

/** A driver for a test database's URL with the tests' settings (5 s to connect or wait for the lock), not opened. */
export function testDriver(url: string): Promise<Driver> {
  return createDriver({
    target: parseDatabaseUrl(url, process.cwd()),
    versionTable: 'glance_db_version',
    lockWaitMs: 5000,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 0,
    lockTimeoutMs: 0,
  });
}

async function withDriver<T>(url: string, fn: (d: Driver) => Promise<T>): Promise<T> {
  const driver = await testDriver(url);
  await driver.open();
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

const viaDriver = (url: string) => ({
  rows: (sql: string) => withDriver(url, (d) => d.query(sql)),
  model: () => withDriver(url, (d) => introspect(d)),
});

export const sqliteEnv: DialectEnv = {
  dialect: 'sqlite',
  available: () => true,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-conf-'));
    const file = join(dir, 'glance.sqlite');
    const exec = async (sql: string) => {
      const db = await openSqlite(file);
      db.exec(sql);
      writeFileSync(file, db.export());
      db.close();
    };
    return {
      url: `sqlite:${file}`,
      exec,
      ...viaDriver(`sqlite:${file}`),
      loadReference: (v) => exec(referenceSql(v, 'sqlite')),
      runScript: (path) => client('sqlite3', [file], readFileSync(path, 'utf8')),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function serverEnv(dialect: 'postgresql' | 'mysql'): DialectEnv {
  let known: boolean | null = null;
  return {
    dialect,
    available: () => (known ??= serverAvailable(dialect)),
    async create() {
      const { name, url } = createDatabase(dialect);
      return {
        url,
        exec: async (sql) => void adminSql(dialect, sql, name),
        ...viaDriver(url),
        loadReference: async (v) => loadSqlFile(dialect, name, referencePath(v, dialect)),
        runScript: (path) =>
          dialect === 'postgresql'
            ? client(
                'psql',
                ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...clientArgs(dialect), '-d', name, '-f', path],
                undefined,
                clientEnv(dialect),
              )
            : client('mariadb', [...clientArgs(dialect), name], readFileSync(path, 'utf8'), clientEnv(dialect)),
        drop: async () => dropDatabase(dialect, name),
      };
    },
  };
}

export const postgresEnv = serverEnv('postgresql');
export const mysqlEnv = serverEnv('mysql');

/** A fresh database for the length of fn, dropped afterwards. */
export async function withDb<T>(env: DialectEnv, fn: (db: TestDb) => Promise<T>): Promise<T> {
  const db = await env.create();
  try {
    return await fn(db);
  } finally {
    await db.drop();
  }
}
