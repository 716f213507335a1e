// Exact copies of a test database (issue 30): a starting state built once
// (often by the real glance-manage, ~2 s a call) and copied into each test's
// fresh database instead of built again. SQLite copies the file; PostgreSQL
// re-creates the database from the source as its TEMPLATE; MariaDB, which has
// no such thing, re-creates every table from SHOW CREATE TABLE (foreign keys,
// AUTO_INCREMENT and all), copies its rows and re-creates the triggers, in
// one client connection. test/handback.ts checks a clone against the database
// it was copied from (schema, rows, and the server's own dump).
import { copyFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { DialectEnv, TestDb } from './dialects.js';
import { adminSql, dumpDatabase } from './servers.js';

/** The file of a SQLite test database, or the database name of a server one, from its URL. */
export function dbName(db: TestDb): string {
  if (db.url.startsWith('sqlite:')) return db.url.slice('sqlite:'.length);
  return decodeURIComponent(new URL(db.url.replace(/^[a-z+]+:/, 'http:')).pathname.slice(1));
}

const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The one MariaDB script that turns an empty database into a copy of `source` (tables, rows, triggers). */
async function mysqlCloneScript(source: TestDb): Promise<(target: string) => string> {
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
  const triggers: string[] = [];
  for (const t of await source.rows('SHOW TRIGGERS'))
    triggers.push(
      String((await source.rows(`SHOW CREATE TRIGGER ${q(String(t.Trigger))}`))[0]['SQL Original Statement']),
    );
  return (target) =>
    [
      'SET FOREIGN_KEY_CHECKS = 0;',
      `USE ${q(target)};`,
      ...creates.map((c) => `${c};`),
      ...tables.map((t) => `INSERT INTO ${q(target)}.${q(t)} SELECT * FROM ${q(from)}.${q(t)};`),
      'SET FOREIGN_KEY_CHECKS = 1;',
      ...(triggers.length ? ['DELIMITER //', ...triggers.map((t) => `${t} //`), 'DELIMITER ;'] : []),
    ].join('\n');
}

/** A way to copy `source` into a fresh, empty test database of the same dialect; `source` must not change after. */
export async function cloner(env: DialectEnv, source: TestDb): Promise<(target: TestDb) => void> {
  if (env.dialect === 'sqlite') return (target) => copyFileSync(dbName(source), dbName(target));
  if (env.dialect === 'postgresql') {
    const from = dbName(source);
    return (target) => {
      const name = dbName(target);
      // CREATE DATABASE cannot run in a transaction: psql runs each statement on its own.
      adminSql('postgresql', `DROP DATABASE ${name} WITH (FORCE);\nCREATE DATABASE ${name} TEMPLATE ${from};\n`);
    };
  }
  const script = await mysqlCloneScript(source);
  return (target) => void adminSql('mysql', script(dbName(target)));
}

/** Asserts that `copy` is `source` exactly: the schema as glance-db introspects it, every table's rows, and on a server its dump. */
export async function assertSameDatabase(env: DialectEnv, source: TestDb, copy: TestDb, what: string): Promise<void> {
  const model = await source.model();
  assert.equal(diffSchemas(model, await copy.model()), [], `${what}: schema`);
  assert.ok(Object.keys(model.tables).includes('alembic_version'), `${what}: has alembic_version`);
  for (const t of Object.keys(model.tables).sort()) {
    const rows = async (db: TestDb) => (await db.rows(`SELECT * FROM ${t}`)).map((r) => JSON.stringify(r)).sort();
    assert.equal(await rows(copy), await rows(source), `${what}: rows of ${t}`);
  }
  if (env.dialect !== 'sqlite')
    assert.fixture(dumpDatabase(env.dialect, dbName(copy)), dumpDatabase(env.dialect, dbName(source)), `${what}: dump`);
}
