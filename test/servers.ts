// Real PostgreSQL and MariaDB for the server suites: a fresh database per
// test, dropped afterwards. Without a reachable server the suites skip
// loudly; with GLANCE_DB_REQUIRE_SERVERS=1 (CI) that is a failure instead.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export type ServerDialect = 'postgresql' | 'mysql';

export const SERVER_URLS: Record<ServerDialect, string> = {
  postgresql: process.env.GLANCE_DB_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test',
  mysql: process.env.GLANCE_DB_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
};

const required = () => process.env.GLANCE_DB_REQUIRE_SERVERS === '1';

function adminArgs(dialect: ServerDialect, sql: string, db?: string): [string, string[]] {
  const u = new URL(SERVER_URLS[dialect].replace(/^[a-z+]+:/, 'http:'));
  if (dialect === 'postgresql') {
    return ['psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', db ?? (u.pathname.slice(1) || 'postgres'), '-c', sql]];
  }
  return ['mariadb', ['--protocol=tcp', '-h', u.hostname, '-P', u.port || '3306', '-u', u.username || 'root', ...(db ? [db] : []), '-e', sql]];
}

/** Runs SQL with the server's own client; throws with its stderr on failure. */
export function adminSql(dialect: ServerDialect, sql: string, db?: string): string {
  const [cmd, args] = adminArgs(dialect, sql, db);
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(new URL(SERVER_URLS[dialect].replace(/^[a-z+]+:/, 'http:')).password) };
  const res = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 60_000 });
  if (res.status !== 0) throw new Error(`${cmd} failed: ${res.stderr || res.error}`);
  return res.stdout;
}

/** Loads a SQL file into a database with the server's own client. */
export function loadSqlFile(dialect: ServerDialect, db: string, path: string): void {
  const u = new URL(SERVER_URLS[dialect].replace(/^[a-z+]+:/, 'http:'));
  const res = dialect === 'postgresql'
    ? spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', u.hostname, '-p', u.port || '5432', '-U', u.username || 'postgres', '-d', db, '-f', path], { encoding: 'utf8' })
    : spawnSync('sh', ['-c', `mariadb --protocol=tcp -h ${u.hostname} -P ${u.port || '3306'} -u ${u.username || 'root'} ${db} < "${path}"`], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`loading ${path} failed: ${res.stderr}`);
}

export function serverAvailable(dialect: ServerDialect): boolean {
  try {
    adminSql(dialect, 'SELECT 1');
    return true;
  } catch (err) {
    if (required()) throw new Error(`${dialect} server at ${SERVER_URLS[dialect].replace(/:[^:@/]*@/, ':***@')} is required (GLANCE_DB_REQUIRE_SERVERS=1) but unreachable: ${(err as Error).message}`);
    console.log(`\n*** SKIP: ${dialect} server tests: no server at ${SERVER_URLS[dialect].replace(/:[^:@/]*@/, ':***@')} (set GLANCE_DB_REQUIRE_SERVERS=1 to make this a failure) ***\n`);
    return false;
  }
}

/** Creates a fresh database and returns its name and glance-db URL. */
export function createDatabase(dialect: ServerDialect): { name: string; url: string } {
  const name = `glancedb_t_${randomBytes(5).toString('hex')}`;
  adminSql(dialect, dialect === 'postgresql' ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8`);
  return { name, url: SERVER_URLS[dialect].replace(/\/[^/?]*(?=\?|$)/, `/${name}`) };
}

export function dropDatabase(dialect: ServerDialect, name: string): void {
  adminSql(dialect, dialect === 'postgresql' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
}
