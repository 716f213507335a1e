// Exact copies of a test database (issue 30): a starting state built once
// (by the real glance-manage, ~2 s a call, or by glance-db sync: withDbAtLatest
// in test/dialects.ts) and copied into each test's database instead of built
// again. SQLite copies the file; PostgreSQL re-creates the database from the
// source as its TEMPLATE; MariaDB, which has no such thing, re-creates every
// table from SHOW CREATE TABLE (foreign keys, AUTO_INCREMENT and all), copies
// its rows and re-creates the triggers. The servers' copies run on one
// connection, not a client process. test/handback.ts checks a clone against the
// database it was copied from (schema, rows, and the server's own dump).
import { copyFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { viaDriver, type DialectEnv, type TestDb } from './dialects.js';
import { connectServer, dumpDatabase } from './servers.js';

/** What a copy is made from: a test database, or one another test file built, known by its URL. */
export type Source = Pick<TestDb, 'url' | 'rows' | 'model'>;

/** The database at `url`, to read and copy. */
export function sourceAt(url: string): Source {
  return { url, ...viaDriver(url) };
}

/** The file of a SQLite test database, or the database name of a server one, from its URL. */
export function dbName(db: Pick<TestDb, 'url'>): string {
  if (db.url.startsWith('sqlite:')) return db.url.slice('sqlite:'.length);
  return decodeURIComponent(new URL(db.url.replace(/^[a-z+]+:/, 'http:')).pathname.slice(1));
}

const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The one MariaDB script that turns an empty database into a copy of `source` (tables, rows, triggers). */
async function mysqlCloneScript(source: Source): Promise<(target: string) => string> {
  const from = dbName(source);
  const objects = await source.rows(
    'SELECT table_name AS t, table_type AS k FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name',
  );
  const other = objects.filter((o) => o.k !== 'BASE TABLE');
  if (other.length) throw new Error(`clone-db: cannot copy ${other.map((o) => `${o.t} (${o.k})`).join(', ')}`);
  const routines = await source.rows(
    'SELECT routine_name AS r FROM information_schema.routines WHERE routine_schema = DATABASE()',
  );
  if (routines.length) throw new Error(`clone-db: cannot copy routines ${routines.map((r) => r.r).join(', ')}`);
  const tables = objects.map((o) => String(o.t));
  const creates: string[] = [];
  for (const t of tables) creates.push(String((await source.rows(`SHOW CREATE TABLE ${q(t)}`))[0]['Create Table']));
  // Each trigger as it was created: its sql_mode and character set, its body with its comments (mariadb --comments).
  const triggers: string[] = [];
  for (const t of await source.rows('SHOW TRIGGERS')) {
    const [c] = await source.rows(`SHOW CREATE TRIGGER ${q(String(t.Trigger))}`);
    triggers.push(
      `SET SESSION sql_mode = '${String(c.sql_mode)}';`,
      `SET SESSION character_set_client = ${String(c.character_set_client)};`,
      `SET SESSION collation_connection = ${String(c.collation_connection)};`,
      'DELIMITER //',
      `${String(c['SQL Original Statement'])} //`,
      'DELIMITER ;',
    );
  }
  return (target) =>
    [
      `CREATE DATABASE IF NOT EXISTS ${q(target)} CHARACTER SET utf8;`,
      'SET FOREIGN_KEY_CHECKS = 0;',
      `USE ${q(target)};`,
      ...creates.map((c) => `${c};`),
      ...tables.map((t) => `INSERT INTO ${q(target)}.${q(t)} SELECT * FROM ${q(from)}.${q(t)};`),
      'SET FOREIGN_KEY_CHECKS = 1;',
      ...triggers,
    ].join('\n');
}

/**
 * A way to copy `source` into a test database of the same dialect: an empty one, or (on a server) one not created
 * yet; `source` must not change after.
 */
export async function cloner(env: DialectEnv, source: Source): Promise<(target: Pick<TestDb, 'url'>) => Promise<void>> {
  if (env.dialect === 'sqlite') return async (target) => copyFileSync(dbName(source), dbName(target));
  if (env.dialect === 'postgresql') {
    const from = dbName(source);
    return async (target) => {
      const name = dbName(target);
      const admin = await connectServer('postgresql');
      try {
        await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        // No session may be connected to the source: one of glance-db's, closing, may still be on its way out.
        for (let attempt = 1; ; attempt++) {
          try {
            await admin.exec(`CREATE DATABASE ${name} TEMPLATE ${from}`);
            break;
          } catch (err) {
            if (attempt >= 50 || !/being accessed by other users/.test(String(err))) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      } finally {
        await admin.end();
      }
    };
  }
  const script = await mysqlCloneScript(source);
  return async (target) => {
    const admin = await connectServer('mysql');
    try {
      await admin.exec(script(dbName(target)));
    } catch (err) {
      throw new Error(`clone-db: copying ${source.url}: ${String(err)}`);
    } finally {
      await admin.end();
    }
  };
}

/** Asserts that `copy` is `source` exactly: the schema as glance-db introspects it, every table's rows, and on a server its dump. */
export async function assertSameDatabase(env: DialectEnv, source: Source, copy: TestDb, what: string): Promise<void> {
  const model = await source.model();
  assert.equal(diffSchemas(model, await copy.model()), [], `${what}: schema`);
  assert.ok(Object.keys(model.tables).includes('alembic_version'), `${what}: has alembic_version`);
  for (const t of Object.keys(model.tables).sort()) {
    const rows = async (db: Source) => (await db.rows(`SELECT * FROM ${t}`)).map((r) => JSON.stringify(r)).sort();
    assert.equal(await rows(copy), await rows(source), `${what}: rows of ${t}`);
  }
  if (env.dialect !== 'sqlite')
    assert.fixture(dumpDatabase(env.dialect, dbName(copy)), dumpDatabase(env.dialect, dbName(source)), `${what}: dump`);
}
