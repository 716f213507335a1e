// One interface over the three databases for the conformance suite: a fresh
// database, a way to run SQL on it, to read rows and to introspect it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDriver } from '../src/drivers/index.js';
import type { Driver } from '../src/drivers/driver.js';
import type { SchemaModel } from '../src/introspect/model.js';
import { introspect } from '../src/introspect/index.js';
import { parseDatabaseUrl, type Dialect } from '../src/url.js';
import { openSqlite, referencePath, referenceSql } from './helpers.js';
import { adminSql, createDatabase, dropDatabase, loadSqlFile, serverAvailable } from './servers.js';

export interface TestDb {
  url: string;
  /** Runs one or more statements with the dialect's own tooling. */
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<Record<string, unknown>[]>;
  model(): Promise<SchemaModel>;
  /** Loads a reference dump (Glance's own schema at that version). */
  loadReference(version: number): Promise<void>;
  drop(): Promise<void>;
}

export interface DialectEnv {
  dialect: Dialect;
  /** Shown in the suite name when the environment is more than its dialect (a cluster, a pooler). */
  label?: string;
  available(): boolean;
  create(): Promise<TestDb>;
}

async function withDriver<T>(url: string, fn: (d: Driver) => Promise<T>): Promise<T> {
  const driver = await createDriver({ target: parseDatabaseUrl(url, process.cwd()), versionTable: 'glance_db_version', lockWaitMs: 5000, connectTimeoutMs: 5000, statementTimeoutMs: 0, lockTimeoutMs: 0, create: false });
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
