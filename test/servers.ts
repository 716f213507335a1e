// Real PostgreSQL and MariaDB for the server suites, the scripts and the
// benchmark: the one place that knows where the servers are and how to reach
// them with their own clients. GLANCE_DB_TEST_PG_URL / GLANCE_DB_TEST_MYSQL_URL
// override the defaults everywhere (and GLANCE_DB_TEST_GALERA_URLS /
// GLANCE_DB_TEST_PGBOUNCER_URL name the clusters): a test builds every server
// URL or address from here, never from a literal host or port, and a test that
// needs a port where nothing listens asks closedPort(). A fresh database per
// test, dropped afterwards. Without a reachable server the suites skip loudly;
// with GLANCE_DB_REQUIRE_SERVERS=1 (CI) that is a failure instead.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import type { PgClient } from '../src/dialects/postgresql/client.js';

export type ServerDialect = 'postgresql' | 'mysql';

export const SERVER_URLS: Record<ServerDialect, string> = {
  postgresql: process.env.GLANCE_DB_TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/test',
  mysql: process.env.GLANCE_DB_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test',
};

/** The three Galera nodes' URLs and PgBouncer's, for the cluster suites (test/cluster.ts); empty when not set. */
export const GALERA_URLS = (process.env.GLANCE_DB_TEST_GALERA_URLS ?? '')
  .split(',')
  .map((u) => u.trim())
  .filter(Boolean);
export const PGBOUNCER_URL = process.env.GLANCE_DB_TEST_PGBOUNCER_URL ?? '';

const required = () => process.env.GLANCE_DB_REQUIRE_SERVERS === '1';

/** Host, port, user and password of a test server, from its URL. */
export function serverParts(dialect: ServerDialect) {
  const u = new URL(SERVER_URLS[dialect].replace(/^[a-z+]+:/, 'http:'));
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port || (dialect === 'postgresql' ? '5432' : '3306'),
    user: decodeURIComponent(u.username) || (dialect === 'postgresql' ? 'postgres' : 'root'),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  };
}

/** host:port of a test server, as it goes in a URL (an IPv6 address keeps its brackets). */
export function serverAddress(dialect: ServerDialect): string {
  const { host, port } = serverParts(dialect);
  return `${host}:${port}`;
}

/**
 * A TCP port on 127.0.0.1 where nothing listens, for the tests of a refused
 * connection: the kernel hands out a free port, and it is closed at once.
 * The race: until the test has used it, another program may be given the
 * same port and listen on it; the test would then talk to that program. On
 * Linux a listening socket gets a random port out of ~14,000 (the odd ones
 * of ip_local_port_range) and outgoing connections take even ones, so a
 * connection cannot be made from the port to itself and a clash needs another
 * listener in that window to draw the same number. Take one per test file at
 * its start, not a fixed port: 127.0.0.1:1 or :9 is "closed" only on a
 * machine that does not run anything there.
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The URL glance-db takes for database `name` on the test server. */
export function serverUrl(dialect: ServerDialect, name: string): string {
  return SERVER_URLS[dialect].replace(/\/[^/?]*(?=\?|$)/, `/${name}`);
}

/** The connection arguments of the server's own client tool (psql, mariadb, pg_dump, mariadb-dump). */
export function clientArgs(dialect: ServerDialect): string[] {
  const p = serverParts(dialect);
  return dialect === 'postgresql'
    ? ['-h', p.host, '-p', p.port, '-U', p.user]
    : ['--protocol=tcp', '-h', p.host, '-P', p.port, '-u', p.user];
}

/** Environment for the client tools: the password in a variable, never on the command line. */
export function clientEnv(dialect: ServerDialect): NodeJS.ProcessEnv {
  const { password } = serverParts(dialect);
  return {
    ...process.env,
    ...(password ? (dialect === 'postgresql' ? { PGPASSWORD: password } : { MYSQL_PWD: password }) : {}),
  };
}

/** Runs the server's own client (psql or mariadb) with `args` after the connection arguments. */
export function client(dialect: ServerDialect, args: string[], opts: SpawnSyncOptions = {}) {
  const cmd = dialect === 'postgresql' ? 'psql' : 'mariadb';
  const base = dialect === 'postgresql' ? ['-X', '-q', '-v', 'ON_ERROR_STOP=1'] : [];
  return spawnSync(cmd, [...base, ...clientArgs(dialect), ...args], {
    encoding: 'utf8',
    env: clientEnv(dialect),
    timeout: 120_000,
    ...opts,
  });
}

/** Runs SQL with the server's own client; throws with its stderr on failure. */
export function adminSql(dialect: ServerDialect, sql: string, db?: string): string {
  const dbArgs =
    dialect === 'postgresql' ? ['-d', db ?? (serverParts(dialect).database || 'postgres')] : db ? [db] : [];
  const res = client(dialect, [...dbArgs], { input: sql });
  if (res.status !== 0) throw new Error(`${dialect} client failed: ${res.stderr || res.error}`);
  return String(res.stdout);
}

/** Loads a SQL file into a database with the server's own client. */
export function loadSqlFile(dialect: ServerDialect, db: string, path: string): void {
  const res =
    dialect === 'postgresql' ? client(dialect, ['-d', db, '-f', path]) : client(dialect, [db, '-e', `source ${path}`]);
  if (res.status !== 0) throw new Error(`loading ${path} failed: ${res.stderr}`);
}

/** A text dump of a database's schema and rows, for "nothing changed" checks. */
export function dumpDatabase(dialect: ServerDialect, name: string): string {
  const res =
    dialect === 'postgresql'
      ? spawnSync('pg_dump', [...clientArgs(dialect), '--no-owner', name], {
          encoding: 'utf8',
          env: clientEnv(dialect),
        })
      : spawnSync('mariadb-dump', [...clientArgs(dialect), '--skip-dump-date', '--skip-comments', name], {
          encoding: 'utf8',
          env: clientEnv(dialect),
        });
  if (res.status !== 0) throw new Error(res.stderr);
  // pg_dump 15.14+ brackets its output with a random \restrict key.
  return res.stdout.replace(/^\\(un)?restrict .*$/gm, '');
}

const shown = (dialect: ServerDialect) => SERVER_URLS[dialect].replace(/:[^:@/]*@/, ':***@');

export function serverAvailable(dialect: ServerDialect): boolean {
  try {
    adminSql(dialect, 'SELECT 1');
    return true;
  } catch (err) {
    if (required())
      throw new Error(
        `${dialect} server at ${shown(dialect)} is required (GLANCE_DB_REQUIRE_SERVERS=1) but unreachable: ${(err as Error).message}`,
      );
    console.log(
      `\n*** SKIP: ${dialect} server tests: no server at ${shown(dialect)} (set GLANCE_DB_REQUIRE_SERVERS=1 to make this a failure) ***\n`,
    );
    return false;
  }
}

/** A database name no other test, file or run uses. */
export const freshDatabaseName = () => `glancedb_t_${randomBytes(5).toString('hex')}`;

/** Creates a fresh database (random name, or `name`) and returns its name and glance-db URL. */
export function createDatabase(dialect: ServerDialect, name = freshDatabaseName()): { name: string; url: string } {
  adminSql(
    dialect,
    dialect === 'postgresql' ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8`,
  );
  return { name, url: serverUrl(dialect, name) };
}

export function dropDatabase(dialect: ServerDialect, name: string): void {
  adminSql(
    dialect,
    dialect === 'postgresql' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`,
  );
}

/** One connection to a database on a test server, in this process: SQL without starting psql or mariadb. */
export interface ServerConnection {
  /**
   * Runs a script statement by statement, each committed on its own, stopping
   * at the first error: what `psql -v ON_ERROR_STOP=1` and `mariadb` do with it
   * (mariadb's DELIMITER lines included).
   */
  exec(sql: string): Promise<void>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  end(): Promise<void>;
}

// The drivers and the splitter (with the dialect registry it reads) load at the first connection, not with
// every file that imports this one.
const splitter = async () => {
  await import('../src/dialects/index.js');
  return (await import('../src/core/sql/split.js')).splitStatements;
};

/** A script's statements as the mariadb client sends them: DELIMITER lines change the terminator. */
export async function mysqlScriptStatements(sql: string): Promise<string[]> {
  const splitStatements = await splitter();
  const out: string[] = [];
  let delimiter = ';';
  let chunk: string[] = [];
  const flush = () => {
    const text = chunk.join('\n');
    chunk = [];
    if (delimiter === ';') out.push(...splitStatements(text, 'mysql').map((s) => s.text));
    else
      out.push(
        ...text
          .split(delimiter)
          .map((t) => t.trim())
          .filter(Boolean),
      );
  };
  for (const line of sql.split('\n')) {
    const m = /^\s*DELIMITER\s+(\S+)\s*$/i.exec(line);
    if (!m) chunk.push(line);
    else {
      flush();
      delimiter = m[1];
    }
  }
  flush();
  return out;
}

/** Opens a connection to database `db` (by default the server URL's own) on a test server. */
export async function connectServer(dialect: ServerDialect, db?: string): Promise<ServerConnection> {
  const p = serverParts(dialect);
  const login = { host: p.host, port: Number(p.port), user: p.user, password: p.password || undefined };
  if (dialect === 'postgresql') {
    const [{ default: pg }, splitStatements] = await Promise.all([import('pg'), splitter()]);
    const c = new pg.Client({
      ...login,
      database: db ?? (p.database || 'postgres'),
      application_name: 'glance-db-test',
    }) as PgClient;
    // A server that ends the session (a test's pg_terminate_backend) must not take the test process with it.
    c.on('error', () => {});
    await c.connect();
    return {
      exec: async (sql) => {
        for (const s of splitStatements(sql, 'postgresql')) await c.query(s.text);
      },
      query: async (sql) => (await c.query(sql)).rows as Record<string, unknown>[],
      end: () => c.end(),
    };
  }
  const mysql = await import('mysql2/promise');
  const c = await mysql.createConnection({ ...login, database: db });
  c.on('error', () => {});
  return {
    exec: async (sql) => {
      for (const s of await mysqlScriptStatements(sql)) await c.query(s);
    },
    query: async (sql) => (await c.query(sql))[0] as Record<string, unknown>[],
    end: () => c.end(),
  };
}
