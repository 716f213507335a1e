// The clusters the cluster suites run against: a three-node MariaDB Galera
// cluster (scripts/galera.sh, URLs in GLANCE_DB_TEST_GALERA_URLS) and
// PgBouncer in transaction mode (scripts/pgbouncer.sh, URL in
// GLANCE_DB_TEST_PGBOUNCER_URL). Without them the suites skip loudly; with
// GLANCE_DB_REQUIRE_CLUSTER=1 (.ci/run and npm run test:cluster set it) a
// missing or unreachable cluster fails the run instead.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createDriver } from '../src/dialects/create-driver.js';
import type { Driver } from '../src/core/driver/driver.js';
import { introspect } from '../src/core/introspect/index.js';
import type { SchemaModel } from '../src/core/introspect/model.js';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import type { DialectEnv, TestDb } from './dialects.js';
import { ROOT, referencePath } from './helpers.js';
import { adminSql, GALERA_URLS, PGBOUNCER_URL, SERVER_URLS } from './servers.js';

export { GALERA_URLS, PGBOUNCER_URL };
const required = () => process.env.GLANCE_DB_REQUIRE_CLUSTER === '1';

function unavailable(what: string, why: string): false {
  if (required()) throw new Error(`${what} is required (GLANCE_DB_REQUIRE_CLUSTER=1) but ${why}`);
  console.log(
    `\n*** SKIP: ${what} tests: ${why} (start it with npm run test:cluster; GLANCE_DB_REQUIRE_CLUSTER=1 makes this a failure) ***\n`,
  );
  return false;
}

const parts = (url: string) => new URL(url.replace(/^[a-z+]+:/, 'http:'));

/** Runs SQL on one Galera node (0-based index into GALERA_URLS) with the mariadb client. */
export function nodeSql(node: number, sql: string, db?: string, input?: string): string {
  const u = parts(GALERA_URLS[node]);
  const res = spawnSync(
    'mariadb',
    [
      '--protocol=tcp',
      '-h',
      u.hostname,
      '-P',
      u.port || '3306',
      '-u',
      u.username || 'root',
      '-N',
      '-B',
      ...(db ? [db] : []),
      ...(input === undefined ? ['-e', sql] : []),
    ],
    { encoding: 'utf8', timeout: 600_000, input, maxBuffer: 64 << 20 },
  );
  if (res.status !== 0) throw new Error(`mariadb on node ${node + 1} failed: ${res.stderr || res.error}`);
  return res.stdout;
}

export function galeraAvailable(): boolean {
  if (GALERA_URLS.length !== 3) return unavailable('Galera cluster', GLANCE_DB_TEST_GALERA_URLS_missing());
  try {
    for (let i = 0; i < 3; i++) {
      const size = nodeSql(i, "SHOW STATUS LIKE 'wsrep_cluster_size'").split('\t')[1]?.trim();
      if (size !== '3')
        return unavailable('Galera cluster', `node ${i + 1} reports wsrep_cluster_size ${size ?? '(none)'}, not 3`);
    }
    return true;
  } catch (err) {
    return unavailable('Galera cluster', `a node is unreachable: ${(err as Error).message.split('\n')[0]}`);
  }
}

function GLANCE_DB_TEST_GALERA_URLS_missing(): string {
  return GALERA_URLS.length === 0
    ? 'GLANCE_DB_TEST_GALERA_URLS is not set'
    : `GLANCE_DB_TEST_GALERA_URLS names ${GALERA_URLS.length} node(s), not 3`;
}

export function pgbouncerAvailable(): boolean {
  if (!PGBOUNCER_URL) return unavailable('PgBouncer', 'GLANCE_DB_TEST_PGBOUNCER_URL is not set');
  const u = parts(PGBOUNCER_URL);
  const res = spawnSync(
    'psql',
    [
      '-X',
      '-q',
      '-h',
      u.hostname,
      '-p',
      u.port || '6432',
      '-U',
      u.username || 'postgres',
      '-d',
      'postgres',
      '-c',
      'SELECT 1',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (res.status !== 0)
    return unavailable('PgBouncer', `no PgBouncer at ${u.hostname}:${u.port}: ${res.stderr.trim()}`);
  return true;
}

export const dbUrl = (base: string, name: string) => base.replace(/\/[^/?]*(?=\?|$)/, `/${name}`);

export async function withDriver<T>(url: string, fn: (d: Driver) => Promise<T>): Promise<T> {
  const driver = await createDriver({
    target: parseDatabaseUrl(url, ROOT),
    versionTable: 'glance_db_version',
    lockWaitMs: 5000,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 0,
    lockTimeoutMs: 0,
  });
  await driver.open();
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

/** What must be equal on every node: the schema, the version table, the row count of every table. */
export async function nodeState(
  url: string,
): Promise<{ model: SchemaModel; versions: string[]; counts: Record<string, number> }> {
  // The driver turns on wsrep_sync_wait, so these reads see everything committed cluster-wide before them.
  return withDriver(url, async (d) => {
    const model = await introspect(d);
    delete model.tables.glance_db_version_lock;
    const tables = Object.keys(model.tables).sort();
    const versions = tables.includes('glance_db_version')
      ? (
          await d.query('SELECT version, status, statements_applied, checksum FROM glance_db_version ORDER BY version')
        ).map((r) => `${r.version}:${r.status}:${r.statements_applied}:${r.checksum}`)
      : [];
    const counts: Record<string, number> = {};
    for (const t of tables) counts[t] = Number((await d.query(`SELECT count(*) AS n FROM ${t}`))[0].n);
    return { model, versions, counts };
  });
}

/** Differences between node 1 and each other node, or [] when all three agree. */
export async function nodesDiffer(name: string): Promise<string[]> {
  const states = await Promise.all(GALERA_URLS.map((u) => nodeState(dbUrl(u, name))));
  const out: string[] = [];
  for (let i = 1; i < states.length; i++) {
    for (const d of diffSchemas(states[0].model, states[i].model)) out.push(`node ${i + 1} schema: ${d}`);
    if (JSON.stringify(states[i].versions) !== JSON.stringify(states[0].versions))
      out.push(
        `node ${i + 1} version table: ${states[i].versions.join(' ')} vs node 1: ${states[0].versions.join(' ')}`,
      );
    if (JSON.stringify(states[i].counts) !== JSON.stringify(states[0].counts))
      out.push(
        `node ${i + 1} row counts: ${JSON.stringify(states[i].counts)} vs node 1: ${JSON.stringify(states[0].counts)}`,
      );
  }
  return out;
}

/** A fresh database created through node 1, and seen (causally) by every node. */
export function createGaleraDatabase(): string {
  const name = `glancedb_g_${randomBytes(5).toString('hex')}`;
  nodeSql(0, `CREATE DATABASE ${name} CHARACTER SET utf8`);
  for (let i = 1; i < 3; i++)
    nodeSql(
      i,
      `SET SESSION wsrep_sync_wait = 15; SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${name}'`,
    );
  return name;
}

export function dropGaleraDatabase(name: string): void {
  nodeSql(0, `DROP DATABASE IF EXISTS ${name}`);
}

/**
 * The conformance environment on the cluster: databases are created, filled
 * and loaded through node 1, glance-db runs against node `target` (0-based),
 * and every database is compared on all three nodes before it is dropped.
 */
export function galeraEnv(target: number): DialectEnv & { label: string } {
  let known: boolean | null = null;
  return {
    dialect: 'mysql',
    label: `galera (glance-db on node ${target + 1}, data through node 1)`,
    available: () => (known ??= galeraAvailable()),
    async create(): Promise<TestDb> {
      const name = createGaleraDatabase();
      const url = dbUrl(GALERA_URLS[target], name);
      return {
        url,
        exec: async (sql) => void nodeSql(0, sql, name),
        rows: (sql) => withDriver(url, (d) => d.query(sql)),
        model: () => withDriver(url, (d) => introspect(d)),
        loadReference: async (v) =>
          void nodeSql(0, '', name, (await import('node:fs')).readFileSync(referencePath(v, 'mysql'), 'utf8')),
        runScript: (path) => {
          // The documented way (mariadb db < FILE), on the node glance-db uses.
          const u = parts(GALERA_URLS[target]);
          const r = spawnSync(
            'mariadb',
            ['--protocol=tcp', '-h', u.hostname, '-P', u.port || '3306', '-u', u.username || 'root', name],
            { encoding: 'utf8', input: readFileSync(path, 'utf8'), timeout: 120_000 },
          );
          return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
        },
        drop: async () => {
          const differ = await nodesDiffer(name);
          dropGaleraDatabase(name);
          if (differ.length > 0) throw new Error(`the nodes disagree about ${name}:\n${differ.join('\n')}`);
        },
      };
    },
  };
}

/**
 * The conformance environment behind PgBouncer: databases are created on
 * PostgreSQL directly, glance-db (and the test's reads) go through PgBouncer.
 */
export function pgbouncerEnv(): DialectEnv & { label: string } {
  let known: boolean | null = null;
  return {
    dialect: 'postgresql',
    label: 'postgresql behind PgBouncer (transaction pooling)',
    available: () => (known ??= pgbouncerAvailable()),
    async create(): Promise<TestDb> {
      const name = `glancedb_b_${randomBytes(5).toString('hex')}`;
      adminSql('postgresql', `CREATE DATABASE ${name}`);
      const url = dbUrl(PGBOUNCER_URL, name);
      const direct = dbUrl(SERVER_URLS.postgresql, name);
      return {
        url,
        exec: async (sql) => void adminSql('postgresql', sql, name),
        rows: (sql) => withDriver(url, (d) => d.query(sql)),
        model: () => withDriver(url, (d) => introspect(d)),
        runScript: (path) => {
          // psql -v ON_ERROR_STOP=1 -f FILE through PgBouncer, as glance-db connects.
          const u = parts(url);
          const r = spawnSync(
            'psql',
            [
              '-X',
              '-q',
              '-v',
              'ON_ERROR_STOP=1',
              '-h',
              u.hostname,
              '-p',
              u.port || '5432',
              '-U',
              u.username || 'postgres',
              '-d',
              name,
              '-f',
              path,
            ],
            { encoding: 'utf8', timeout: 120_000 },
          );
          return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
        },
        loadReference: async (v) => {
          const u = parts(direct);
          const res = spawnSync(
            'psql',
            [
              '-X',
              '-q',
              '-v',
              'ON_ERROR_STOP=1',
              '-h',
              u.hostname,
              '-p',
              u.port || '5432',
              '-U',
              u.username || 'postgres',
              '-d',
              name,
              '-f',
              referencePath(v, 'postgresql'),
            ],
            { encoding: 'utf8' },
          );
          if (res.status !== 0) throw new Error(`loading reference v${v} failed: ${res.stderr}`);
        },
        drop: async () => void adminSql('postgresql', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      };
    },
  };
}
