// One interface over the three databases for the conformance suite: a fresh
// database, a way to run SQL on it, to read rows and to introspect it.
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createDriver } from '../src/dialects/create-driver.js';
import type { Driver } from '../src/core/driver/driver.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { introspect } from '../src/core/introspect/index.js';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { Dialect } from '../src/dialects/index.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { LATEST, openSqlite, referencePath, referenceSql, runCli } from './helpers.js';
import { cloner, dbName } from './clone-db.js';
import {
  adminSql,
  clientArgs,
  clientEnv,
  connectServer,
  createDatabase,
  dropDatabase,
  freshDatabaseName,
  loadSqlFile,
  serverAvailable,
  serverUrl,
  type ServerConnection,
  type ServerDialect,
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

/** A database's rows and schema model, each read through a driver of its own (opened and closed per call). */
export const viaDriver = (url: string) => ({
  rows: (sql: string) => withDriver(url, (d) => d.query(sql)),
  model: () => withDriver(url, (d) => introspect(d)),
});

export const sqliteEnv: DialectEnv = {
  dialect: 'sqlite',
  available: () => true,
  create: async () => sqliteDb(),
};

/** A TestDb on a SQLite file in a new folder: empty, or a copy of `from`. */
function sqliteDb(from?: string): TestDb {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-conf-'));
  const file = join(dir, 'glance.sqlite');
  if (from) copyFileSync(from, file);
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
}

/**
 * A TestDb on database `name` of a test server. With `connection`, exec runs on
 * one connection the TestDb opens at its first exec and closes when dropped;
 * without, each exec is a run of psql or mariadb.
 */
function serverDb(dialect: ServerDialect, name: string, connection = false): TestDb {
  const url = serverUrl(dialect, name);
  let conn: Promise<ServerConnection> | null = null;
  return {
    url,
    exec: connection
      ? async (sql) => (await (conn ??= connectServer(dialect, name))).exec(sql)
      : async (sql) => void adminSql(dialect, sql, name),
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
    drop: async () => {
      const open = conn;
      conn = null;
      if (open) await (await open).end();
      dropDatabase(dialect, name);
    },
  };
}

function serverEnv(dialect: ServerDialect): DialectEnv {
  let known: boolean | null = null;
  return {
    dialect,
    available: () => (known ??= serverAvailable(dialect)),
    create: async () => serverDb(dialect, createDatabase(dialect).name),
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

// A database at LATEST without running sync in every test: glance-db sync
// builds one template per test process and dialect (the normal path, checked
// with glance-db version), and each test gets a copy of it (test/clone-db.ts:
// PostgreSQL's TEMPLATE, MariaDB's tables and rows on one connection, SQLite's
// file); on MariaDB every copy is also compared with the template (SHOW CREATE
// TABLE and CHECKSUM TABLE). Every clone's rows are counted against the
// template's, and the first clone of each is compared with it by the project's
// own introspection and diff. Templates are dropped when the process exits.

interface Template {
  /** The template's URL, its schema as introspected, and its rows' count per table. */
  url: string;
  model: SchemaModel;
  counts: Record<string, number>;
  clone(): Promise<TestDb>;
}

const templates = new Map<DialectEnv, Promise<Template>>();

async function rowCounts(db: TestDb, model: SchemaModel): Promise<Record<string, number>> {
  const tables = Object.keys(model.tables).sort();
  const rows = await db.rows(tables.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n FROM ${t}`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [String(r.t), Number(r.n)]));
}

async function buildTemplate(env: DialectEnv): Promise<Template> {
  let db: TestDb;
  let target: () => TestDb;
  if (env === sqliteEnv) {
    db = sqliteDb();
    const file = db.url.slice('sqlite:'.length);
    process.once('exit', () => rmSync(dirname(file), { recursive: true, force: true }));
    target = () => sqliteDb();
  } else if (env === postgresEnv || env === mysqlEnv) {
    const dialect = env.dialect as ServerDialect;
    const { name } = createDatabase(dialect);
    process.once('exit', () => dropDatabase(dialect, name));
    db = serverDb(dialect, name);
    // Created by the copy itself, on its connection; the test's exec runs on one connection too.
    target = () => serverDb(dialect, freshDatabaseName(), true);
  } else throw new Error(`withDbAtLatest: no template for ${env.label ?? env.dialect}; use withDb and sync`);
  const synced = await runCli(['sync', '--url', db.url]);
  if (synced.code !== 0) throw new Error(`the template's glance-db sync failed (${synced.code}): ${synced.stderr}`);
  const version = await runCli(['version', '--url', db.url]);
  if (version.stdout !== `${LATEST}\n`) throw new Error(`the template is at ${version.stdout}, not ${LATEST}`);
  const model = await db.model();
  const copy = await cloner(env, db);
  const verify = env === mysqlEnv ? await mysqlVerifier(dbName(db), Object.keys(model.tables).sort()) : null;
  const clone = async () => {
    const c = target();
    try {
      await copy(c);
      await verify?.(dbName(c));
    } catch (err) {
      await c.drop();
      throw err;
    }
    return c;
  };
  return { url: db.url, model, counts: await rowCounts(db, model), clone };
}

/** What MariaDB compares of a clone and its template: each table's CREATE TABLE and its rows' checksum. */
async function mysqlTables(admin: ServerConnection, db: string, tables: string[]) {
  const creates: string[] = [];
  for (const t of tables) creates.push(String((await admin.query(`SHOW CREATE TABLE ${db}.${t}`))[0]['Create Table']));
  const sums = await admin.query(`CHECKSUM TABLE ${tables.map((t) => `${db}.${t}`).join(', ')} EXTENDED`);
  return { creates, checksums: sums.map((r) => String(r.Checksum)) };
}

/** Reads the MariaDB template once; returns the check that a clone of it is the same, table by table. */
async function mysqlVerifier(template: string, tables: string[]): Promise<(clone: string) => Promise<void>> {
  const once = await connectServer('mysql');
  const expected = await mysqlTables(once, template, tables).finally(() => once.end());
  return async (clone) => {
    const admin = await connectServer('mysql');
    try {
      const got = await mysqlTables(admin, clone, tables);
      if (JSON.stringify(got) !== JSON.stringify(expected))
        throw new Error(`the clone ${clone} of ${template} differs from it: ${JSON.stringify({ got, expected })}`);
    } finally {
      await admin.end();
    }
  };
}

const verified = new Set<DialectEnv>();

/**
 * A database at LATEST for the length of fn, dropped afterwards: for tests
 * whose subject is not sync (metadefs, purge...). A clone of a template
 * glance-db sync built once in this process; its exec runs on one connection,
 * not a client process each. A test of sync itself syncs with withDb.
 */
export async function withDbAtLatest<T>(env: DialectEnv, fn: (db: TestDb) => Promise<T>): Promise<T> {
  if (!templates.has(env)) templates.set(env, buildTemplate(env));
  const template = await templates.get(env)!;
  const db = await template.clone();
  try {
    // The test starts where a sync would have left it: the template's rows (and, the first time, its schema).
    if (!verified.has(env)) {
      const model = await db.model();
      assert.equal([...diffSchemas(template.model, model), ...diffSchemas(model, template.model)], [], 'schema');
      verified.add(env);
    }
    assert.equal(await rowCounts(db, template.model), template.counts, `a clone of ${template.url}: its rows`);
    return await fn(db);
  } finally {
    await db.drop();
  }
}
