import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checksumOf, normalizeSql } from '../src/checksum.js';
import { parseDatabaseUrl, redactUrl } from '../src/url.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { acquireFileLock } from '../src/util/file-lock.js';
import { GlanceDbError } from '../src/errors.js';

test('checksum: CRLF and LF hash alike, a BOM is ignored, content changes the hash', () => {
  const lf = 'CREATE TABLE a (id INT);\nSELECT 1;\n';
  assert.is(checksumOf(lf.replace(/\n/g, '\r\n')), checksumOf(lf));
  assert.is(checksumOf(`\uFEFF${lf}`), checksumOf(lf));
  assert.is(checksumOf(Buffer.from(lf)), checksumOf(lf));
  assert.is.not(checksumOf(`${lf} `), checksumOf(lf));
  assert.match(checksumOf(lf), /^sha256-lf:[0-9a-f]{64}$/);
  assert.is(normalizeSql('a\r\nb'), 'a\nb');
});

test('url: sqlite forms resolve against the base folder', () => {
  assert.equal(parseDatabaseUrl('sqlite:glance.sqlite', '/etc/glance'), { dialect: 'sqlite', path: '/etc/glance/glance.sqlite', display: 'sqlite:/etc/glance/glance.sqlite' });
  assert.is((parseDatabaseUrl('sqlite:///rel/g.db', '/x') as { path: string }).path, '/x/rel/g.db');
  assert.is((parseDatabaseUrl('sqlite:////var/lib/glance/g.db', '/x') as { path: string }).path, '/var/lib/glance/g.db');
  assert.is((parseDatabaseUrl('sqlite:/abs/g.db', '/x') as { path: string }).path, '/abs/g.db');
});

test('url: server forms, oslo.db forms, socket, defaults', () => {
  const pg = parseDatabaseUrl('postgresql+psycopg2://glance:s%40cr%3At@db.example:6432/glance', '/');
  assert.equal({ ...pg, display: undefined, params: undefined }, { dialect: 'postgresql', host: 'db.example', port: 6432, user: 'glance', password: 's@cr:t', database: 'glance', socketPath: undefined, params: undefined, display: undefined });
  assert.is(pg.display, 'postgresql://glance@db.example:6432/glance');
  const my = parseDatabaseUrl('mysql+pymysql://glance:pw@localhost/glance?charset=utf8&unix_socket=/run/mysqld/mysqld.sock', '/');
  assert.is(my.dialect, 'mysql');
  assert.is((my as { socketPath?: string }).socketPath, '/run/mysqld/mysqld.sock');
  assert.is((my as { port: number }).port, 3306);
  assert.is(parseDatabaseUrl('postgres://u@h/d', '/').dialect, 'postgresql');
  assert.is(parseDatabaseUrl('mariadb://u@h/d', '/').dialect, 'mysql');
});

test('url: unsupported and malformed URLs are config errors that never show the password', () => {
  for (const bad of ['oracle://u:SECRETPW@h/d', 'postgresql://u:SECRETPW@h', 'nonsense', 'mysql://u:SECRETPW@[::1/d', 'sqlite:']) {
    try {
      parseDatabaseUrl(bad, '/');
      assert.unreachable(`accepted ${bad}`);
    } catch (err) {
      assert.instance(err, GlanceDbError);
      assert.is((err as GlanceDbError).exitCode, 3);
      assert.not.match((err as Error).message, 'SECRETPW');
    }
  }
});

test('redactUrl hides the password of every URL in a text', () => {
  assert.is(redactUrl('x mysql+pymysql://glance:p%40ss@h/g and postgresql://a:b@c/d'), 'x mysql+pymysql://glance:***@h/g and postgresql://a:***@c/d');
  assert.is(redactUrl('sqlite:/a/b'), 'sqlite:/a/b');
  assert.is(redactUrl('"postgresql://u:p@ss:w/rd%x@h:1/d": expected'), '"postgresql://u:***@h:1/d": expected');
});

test('atomic write: a failure between the temp write and the rename leaves the old file intact and no temp file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-aw-'));
  const path = join(dir, 'db.sqlite');
  writeFileSync(path, 'old content');
  assert.throws(() =>
    writeFileAtomic(path, Buffer.from('new content'), {
      rename: () => {
        throw new Error('simulated crash before rename');
      },
    }),
  );
  assert.is(readFileSync(path, 'utf8'), 'old content');
  assert.equal(readdirSync(dir), ['db.sqlite']);
  writeFileAtomic(path, Buffer.from('new content'));
  assert.is(readFileSync(path, 'utf8'), 'new content');
  assert.equal(readdirSync(dir), ['db.sqlite']);
});

test('atomic write: content larger than one write call is written whole, in pieces (SQLite files over 2 GiB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-aw-'));
  const path = join(dir, 'db.sqlite');
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  writeFileAtomic(path, data, { maxWrite: 7 });
  assert.ok(readFileSync(path).equals(data));
  assert.equal(readdirSync(dir), ['db.sqlite']);
});

test('file lock: held lock times out naming the owner; stale lock of a dead process is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-lock-'));
  const lock = join(dir, 'db.lock');
  const release = await acquireFileLock(lock, 0, 'db');
  try {
    await acquireFileLock(lock, 200, 'db');
    assert.unreachable('second acquire succeeded');
  } catch (err) {
    assert.is((err as GlanceDbError).exitCode, 8);
    assert.match((err as Error).message, String(process.pid));
  }
  release();
  assert.not.ok(existsSync(lock));
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), startedAt: 'then' }));
  const again = await acquireFileLock(lock, 0, 'db');
  assert.is(JSON.parse(readFileSync(lock, 'utf8')).pid, process.pid);
  again();
});

/** A SQLite driver on a file in a new folder whose version table was written by an earlier run, holding the lock. */
async function lockedSqliteDriver(prefix: string) {
  const { SqliteDriver } = await import('../src/drivers/sqlite.js');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'g.sqlite');
  const make = () => new SqliteDriver({ target: parseDatabaseUrl(`sqlite:${file}`, dir), versionTable: 'glance_db_version', lockWaitMs: 1000, connectTimeoutMs: 1000, statementTimeoutMs: 0, lockTimeoutMs: 0, create: true });
  const earlier = make();
  await earlier.open();
  await earlier.lock();
  await earlier.ensureVersionTable();
  await earlier.close();
  const driver = make();
  await driver.open();
  await driver.lock();
  return { dir, file, driver };
}

/** Version 1: one CREATE TABLE. */
function versionOne() {
  const row = { version: 1, name: 'x', dialect: 'sqlite' as const, checksum: 'sha256-lf:0', kind: 'applied' as const, status: 'complete' as const, statementsApplied: 1, statementsTotal: 1, statementHashes: null, error: null, appliedAt: new Date().toISOString(), executionMs: 0, toolVersion: '0' };
  return { version: 1, name: 'x', file: 'x.sql', statements: [{ index: 0, text: 'CREATE TABLE t (id INTEGER)', line: 1, column: 1, offset: 0 }], row, resumeFrom: 0, after: [] };
}

test('SQLite: a file changed on disk by another program after it was read is not overwritten', async () => {
  const { dir, file, driver: first } = await lockedSqliteDriver('glance-db-conflict-');
  await first.readHistory();
  // Another program rewrites the file while glance-db holds its image in memory.
  const other = readFileSync(file);
  writeFileSync(file, Buffer.concat([other, Buffer.alloc(4096)]));
  const before = readFileSync(file);
  await first.applyVersion(versionOne());
  try {
    // The one write-back of the run.
    await first.close();
    assert.unreachable('overwrote a file another program changed');
  } catch (err) {
    assert.is((err as GlanceDbError).exitCode, 10);
    assert.match((err as Error).message, 'was changed on disk by another program');
  }
  assert.ok(readFileSync(file).equals(before), 'file left as the other program wrote it');
});

test('SQLite: a database that outgrows one buffer during the upgrade gets a clear error and the file stays as it was before the run', async () => {
  const { dir, file, driver } = await lockedSqliteDriver('glance-db-outgrown-');
  const before = readFileSync(file);
  await driver.readHistory();
  // What sql.js throws when the export buffer cannot be allocated (a file past 4 GiB here).
  const db = (driver as unknown as { db: { export(): Uint8Array } }).db;
  db.export = () => {
    throw new RangeError('Array buffer allocation failed');
  };
  await driver.applyVersion(versionOne());
  try {
    await driver.close();
    assert.unreachable('wrote a database it could not export');
  } catch (err) {
    assert.is((err as GlanceDbError).exitCode, 3);
    assert.match((err as Error).message, /has grown to \d+\.\d\d GiB during the upgrade/);
    assert.match((err as Error).message, 'left as it was before this run');
    assert.not.match((err as Error).message, '\n');
  }
  assert.ok(readFileSync(file).equals(before), 'file left as it was before the run');
  assert.equal(readdirSync(dir), ['g.sqlite']);
});

test('SQLite: versions applied in a run reach the file together, at the end of the run, in one write', async () => {
  const { file, driver } = await lockedSqliteDriver('glance-db-once-');
  const before = readFileSync(file);
  const inode = statSync(file).ino;
  for (const v of [1, 2, 3]) {
    const p = versionOne();
    await driver.applyVersion({ ...p, version: v, row: { ...p.row, version: v }, statements: [{ ...p.statements[0], text: `CREATE TABLE t${v} (id INTEGER)` }] });
    assert.ok(readFileSync(file).equals(before), `version ${v}: not written yet`);
    assert.is(statSync(file).ino, inode);
  }
  await driver.close();
  const { sqliteRows } = await import('./helpers.js');
  assert.equal((await sqliteRows(file, 'SELECT version FROM glance_db_version ORDER BY version')).map((r) => r.version), [1, 2, 3]);
});

test.run();
