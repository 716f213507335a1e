// The SQLite write-back writes the file sql.js holds in memory, as it is
// (issue 22): the file is read once into a buffer with room to grow, an
// upgrade grows it in place, and the write-back writes that buffer, with no
// export copy. Only a whole image is written that way: a transaction still
// open or a database left in WAL mode would not be, and files of every page
// size real SQLite releases made go through it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cli, lockedSqliteDriver, makeProject, removeProject, LATEST } from './helpers.js';

const sqlite3 = (db: string, sql: string) => {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
};

interface Inside {
  image: { bytes: Uint8Array; length: number } | null;
  db: { exec(sql: string): unknown } | null;
  exportImage(): Uint8Array;
  load(): Promise<unknown>;
}
const inside = (d: unknown) => d as Inside;

test('write-back: the bytes written are the buffer sql.js works in (no export copy), read once with room to grow, grown in place', async () => {
  const { dir, file, driver } = await lockedSqliteDriver('glance-db-image-');
  try {
    // A database glance-db did not write: rows from the sqlite3 shell.
    await driver.close();
    sqlite3(
      file,
      'CREATE TABLE filler (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(1000) FROM n;',
    );
    const size = readFileSync(file).length;
    await driver.open();
    await driver.lock();
    const d = inside(driver);
    await d.load();
    const { image } = d;
    assert.ok(image, 'the driver holds the in-memory file');
    const buffer = image!.bytes.buffer;
    assert.is(image!.length, size, 'the whole file, once');
    assert.ok(
      image!.bytes.length >= size + size / 5,
      `room to grow behind it (capacity ${image!.bytes.length} for ${size} bytes)`,
    );
    await driver.versionTransaction(async (tx) => {
      await tx.execute(
        'CREATE TABLE grown (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO grown SELECT randomblob(1000) FROM n;',
      );
    });
    assert.ok(image!.length > size, 'the file grew');
    assert.is(image!.bytes.buffer, buffer, 'it grew in the buffer it was read into');
    const out = d.exportImage();
    assert.is(out.buffer, buffer, 'the write-back writes that buffer, not a copy');
    assert.is(out.length, image!.length);
    await driver.close();
    assert.is(sqlite3(file, 'PRAGMA integrity_check'), 'ok');
    assert.is(sqlite3(file, 'SELECT count(*) FROM filler; SELECT count(*) FROM grown'), '2000\n300');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('write-back: with a transaction open, the live buffer (which may hold its uncommitted pages) is never handed out', async () => {
  const { dir, driver } = await lockedSqliteDriver('glance-db-image-');
  try {
    const d = inside(driver);
    await d.load();
    // Small cache: the open transaction's pages spill into the in-memory file before COMMIT.
    d.db!.exec('PRAGMA cache_size=1; CREATE TABLE committed_t (x INTEGER); INSERT INTO committed_t VALUES (1)');
    d.db!.exec(
      'BEGIN; CREATE TABLE open_t (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO open_t SELECT randomblob(1000) FROM n;',
    );
    let out: Uint8Array | null = null;
    try {
      out = d.exportImage();
    } catch (err) {
      assert.match((err as Error).message, /busy|locked|transaction/i);
    }
    assert.ok(out === null || out.buffer !== d.image!.bytes.buffer, 'not the live buffer');
    d.db!.exec('ROLLBACK');
    const after = d.exportImage();
    assert.is(after.buffer, d.image!.bytes.buffer, 'once the transaction ended, the buffer itself');
  } finally {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file left in WAL mode (no -wal beside it): every version lands in the file written back, in rollback-journal mode', () => {
  const dir = makeProject();
  try {
    const db = join(dir, 'glance.sqlite');
    assert.is(cli(['sync', '44', '--url', `sqlite:${db}`], { cwd: dir }).code, 0);
    assert.is(sqlite3(db, 'PRAGMA journal_mode=WAL'), 'wal');
    assert.equal([...readFileSync(db).subarray(18, 20)], [2, 2], 'the header says WAL');
    const r = cli(['sync', '--url', `sqlite:${db}`], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.equal([...readFileSync(db).subarray(18, 20)], [1, 1], 'written back in rollback-journal mode');
    assert.is(sqlite3(db, 'PRAGMA integrity_check'), 'ok');
    assert.is(sqlite3(db, 'SELECT max(version) FROM glance_db_version'), String(LATEST));
    const v = cli(['verify', '--url', `sqlite:${db}`], { cwd: dir });
    assert.is(v.code, 0, v.stdout + v.stderr);
  } finally {
    removeProject(dir);
  }
});

test('a file left in WAL mode is run in rollback-journal mode: its commits are in the buffer, which is written as it is', async () => {
  const { dir, file, driver } = await lockedSqliteDriver('glance-db-image-');
  try {
    await driver.close();
    assert.is(sqlite3(file, 'PRAGMA journal_mode=WAL'), 'wal');
    await driver.open();
    await driver.lock();
    const d = inside(driver);
    await d.load();
    await driver.versionTransaction(async (tx) => {
      await tx.execute('CREATE TABLE after_wal (x INTEGER); INSERT INTO after_wal VALUES (7)');
    });
    const out = d.exportImage();
    assert.is(out.buffer, d.image!.bytes.buffer, 'the buffer itself: nothing committed is in a WAL beside it');
    assert.equal([...out.subarray(18, 20)], [1, 1]);
    await driver.close();
    assert.is(sqlite3(file, 'SELECT x FROM after_wal'), '7');
    assert.is(sqlite3(file, 'PRAGMA integrity_check'), 'ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const pageSize of [1024, 65536]) {
  test(`a file with ${pageSize}-byte pages (older SQLite releases made 1024) upgrades from 42 to ${LATEST}, sound and verified`, () => {
    const dir = makeProject();
    try {
      const db = join(dir, 'glance.sqlite');
      sqlite3(db, `PRAGMA page_size=${pageSize}; VACUUM;`);
      assert.is(cli(['sync', '44', '--url', `sqlite:${db}`], { cwd: dir }).code, 0);
      sqlite3(
        db,
        "INSERT INTO images (id, name, status, is_public, created_at, deleted, min_disk, min_ram, protected) VALUES ('i1', 'one', 'active', 1, '2020-01-01', 0, 0, 0, 0)",
      );
      assert.is(sqlite3(db, 'PRAGMA page_size'), String(pageSize));
      const r = cli(['sync', '--url', `sqlite:${db}`], { cwd: dir });
      assert.is(r.code, 0, r.stderr);
      assert.is(sqlite3(db, 'PRAGMA page_size'), String(pageSize));
      assert.is(sqlite3(db, 'PRAGMA integrity_check'), 'ok');
      assert.is(sqlite3(db, "SELECT visibility FROM images WHERE id = 'i1'"), 'public');
      const v = cli(['verify', '--url', `sqlite:${db}`], { cwd: dir });
      assert.is(v.code, 0, v.stdout + v.stderr);
    } finally {
      removeProject(dir);
    }
  });
}

test.run();
