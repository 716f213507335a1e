import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checksumOf, normalizeSql } from '../src/platform/checksum.js';
import { redactUrl } from '../src/platform/url.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { writeFileAtomic } from '../src/platform/atomic-write.js';
import { lockedSqliteDriver, makeProject, removeProject, sqliteRows, versionOne } from './helpers.js';
import { acquireFileLock } from '../src/platform/file-lock.js';
import { applyVersion } from '../src/core/apply.js';
import {
  BeforeBaselineError,
  ConfigError,
  GlanceDbError,
  LockBookkeepingError,
  PartlyAppliedError,
  SchemaDriftError,
  UnknownLegacyVersionError,
  UnknownRevisionError,
  UnknownVersionError,
} from '../src/platform/errors.js';
import {
  BackupFailedError,
  BackupToolFailedError,
  BackupToolMissingError,
  BackupToolStartError,
  BackupWriteError,
} from '../src/platform/errors-backup.js';
import {
  LockFileUnreadableError,
  MigrationFileError,
  ReleasedFileChangedError,
  ReleasedVersionRemovedError,
  ResumeStatementChangedError,
  VersionsNotLockedError,
} from '../src/platform/errors-files.js';

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url));

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
  assert.equal(parseDatabaseUrl('sqlite:glance.sqlite', '/etc/glance'), {
    dialect: 'sqlite',
    path: '/etc/glance/glance.sqlite',
    display: 'sqlite:/etc/glance/glance.sqlite',
  });
  assert.is((parseDatabaseUrl('sqlite:///rel/g.db', '/x') as { path: string }).path, '/x/rel/g.db');
  assert.is(
    (parseDatabaseUrl('sqlite:////var/lib/glance/g.db', '/x') as { path: string }).path,
    '/var/lib/glance/g.db',
  );
  assert.is((parseDatabaseUrl('sqlite:/abs/g.db', '/x') as { path: string }).path, '/abs/g.db');
});

test('url: server forms, oslo.db forms, socket, defaults', () => {
  const pg = parseDatabaseUrl('postgresql+psycopg2://glance:s%40cr%3At@db.example:6432/glance', '/');
  assert.equal(
    { ...pg, display: undefined, params: undefined, tls: undefined, warnings: undefined },
    {
      dialect: 'postgresql',
      host: 'db.example',
      port: 6432,
      user: 'glance',
      password: 's@cr:t',
      database: 'glance',
      socketPath: undefined,
      params: undefined,
      display: undefined,
      tls: undefined,
      warnings: undefined,
    },
  );
  // No sslmode: libpq's default, prefer (src/platform/tls.ts; test/tls-unit.test.ts has the rest).
  assert.is((pg as { tls?: { use: string } }).tls?.use, 'prefer');
  assert.is(pg.display, 'postgresql://glance@db.example:6432/glance');
  const my = parseDatabaseUrl(
    'mysql+pymysql://glance:pw@localhost/glance?charset=utf8&unix_socket=/run/mysqld/mysqld.sock',
    '/',
  );
  assert.is(my.dialect, 'mysql');
  assert.is((my as { socketPath?: string }).socketPath, '/run/mysqld/mysqld.sock');
  assert.is((my as { port: number }).port, 3306);
  assert.is(parseDatabaseUrl('postgres://u@h/d', '/').dialect, 'postgresql');
  assert.is(parseDatabaseUrl('mariadb://u@h/d', '/').dialect, 'mysql');
});

test('url: unsupported and malformed URLs are config errors that never show the password', () => {
  for (const bad of [
    'oracle://u:SECRETPW@h/d',
    'postgresql://u:SECRETPW@h',
    'nonsense',
    'mysql://u:SECRETPW@[::1/d',
    'sqlite:',
  ]) {
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
  assert.is(
    redactUrl('x mysql+pymysql://glance:p%40ss@h/g and postgresql://a:b@c/d'),
    'x mysql+pymysql://glance:***@h/g and postgresql://a:***@c/d',
  );
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

test('SQLite: a file changed on disk by another program after it was read is not overwritten', async () => {
  const { file, driver: first } = await lockedSqliteDriver('glance-db-conflict-');
  await first.readHistory();
  // Another program rewrites the file while glance-db holds its image in memory.
  const other = readFileSync(file);
  writeFileSync(file, Buffer.concat([other, Buffer.alloc(4096)]));
  const before = readFileSync(file);
  await applyVersion(first, versionOne());
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

/** The one-paragraph exit-3 error of a database that outgrew what sql.js holds in one buffer. */
function assertOutgrown(err: unknown): void {
  assert.is((err as GlanceDbError).exitCode, 3);
  assert.match((err as Error).message, /has grown past \d+\.\d\d GiB during the upgrade/);
  assert.match((err as Error).message, 'left as it was before this run');
  assert.not.match((err as Error).message, '\n');
}

test('SQLite: a database whose in-memory file cannot grow during a version: exit 3, one paragraph, nothing written back', async () => {
  const { dir, file, driver } = await lockedSqliteDriver('glance-db-outgrown-');
  const before = readFileSync(file);
  await driver.readHistory();
  // What reaches sql.js's caller when its in-memory file cannot be given a bigger buffer (past 4 GiB):
  // the RangeError of the allocation, thrown through SQLite's code in the middle of a statement.
  const db = (driver as unknown as { db: { exec(sql: string): unknown } }).db;
  const exec = db.exec.bind(db);
  db.exec = (sql: string) => {
    if (sql.includes('CREATE TABLE t ')) throw new RangeError('Invalid typed array length: 4831838208');
    return exec(sql);
  };
  try {
    await applyVersion(driver, versionOne());
    assert.unreachable('the version went on');
  } catch (err) {
    assertOutgrown(err);
  }
  await driver.close();
  assert.ok(
    readFileSync(file).equals(before),
    'file left as it was before the run: an image SQLite was interrupted in is never written',
  );
  assert.equal(readdirSync(dir), ['g.sqlite']);
});

test('SQLite: a database that outgrows one buffer in the export (the write-back when the in-memory file is not whole) gets a clear error and the file stays as it was before the run', async () => {
  const { dir, file, driver } = await lockedSqliteDriver('glance-db-outgrown-');
  const before = readFileSync(file);
  await driver.readHistory();
  // The write-back exports a copy only when it cannot write the in-memory file itself; forced here.
  (driver as unknown as { image: null }).image = null;
  // What sql.js throws when the export buffer cannot be allocated (a file past 4 GiB here).
  const db = (driver as unknown as { db: { export(): Uint8Array } }).db;
  db.export = () => {
    throw new RangeError('Array buffer allocation failed');
  };
  await applyVersion(driver, versionOne());
  try {
    await driver.close();
    assert.unreachable('wrote a database it could not export');
  } catch (err) {
    assertOutgrown(err);
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
    await applyVersion(driver, {
      ...p,
      version: v,
      row: { ...p.row, version: v },
      statements: [{ ...p.statements[0], text: `CREATE TABLE t${v} (id INTEGER)` }],
    });
    assert.ok(readFileSync(file).equals(before), `version ${v}: not written yet`);
    assert.is(statSync(file).ino, inode);
  }
  await driver.close();
  assert.equal(
    (await sqliteRows(file, 'SELECT version FROM glance_db_version ORDER BY version')).map((r) => r.version),
    [1, 2, 3],
  );
});

// ---- the MySQL lock's own statements under contention (eight syncs at once once ended in exit 1 on a 1213)

/** A MysqlLock over a stand-in connection whose INSERT of the lock row fails with `errno` `failures` times, then succeeds. */
async function lockOverFake(errno: number, failures: number) {
  const { MysqlLock } = await import('../src/dialects/mysql/lock.js');
  const log = { inserts: 0, pauses: [] as number[] };
  let left = failures;
  const conn = {
    query: async (sql: string) => {
      if (/^\s*INSERT IGNORE/.test(sql)) {
        log.inserts++;
        if (left-- > 0) throw Object.assign(new Error(`server error ${errno}\nsecond line`), { errno });
        return [{ affectedRows: 1 }];
      }
      if (/information_schema\.(TABLES|COLUMNS)/.test(sql)) return [[{ 1: 1 }]];
      return [{ affectedRows: 1 }];
    },
    end: async () => {},
    destroy: () => {},
  };
  class StandInLock extends MysqlLock {
    protected override connect() {
      return Promise.resolve(conn as never);
    }
  }
  const config = { versionTable: 'glance_db_version', lockWaitMs: 1000, lockLeaseMs: 60_000 } as never;
  const lock = new StandInLock(config, undefined, {
    attempts: 4,
    baseDelayMs: 100,
    sleep: async (ms) => void log.pauses.push(ms),
  });
  return { lock, log };
}

test('MySQL lock: its own statements are retried on 1213, 1205 and 1047 with a jittered growing pause, and the lock is taken', async () => {
  for (const errno of [1213, 1205, 1047]) {
    const { lock, log } = await lockOverFake(errno, 2);
    await lock.acquire();
    await lock.release();
    assert.is(log.inserts, 3, `errno ${errno}`);
    assert.is(log.pauses.length, 2);
    // base 100 ms doubled each time, each pause 50% to 150% of it.
    assert.ok(log.pauses[0] >= 50 && log.pauses[0] <= 150, String(log.pauses));
    assert.ok(log.pauses[1] >= 100 && log.pauses[1] <= 300, String(log.pauses));
  }
});

test('MySQL lock: when retries run out it stops with LockBookkeepingError (exit 8) naming the step, the error and the attempts; other errors are not retried', async () => {
  const { lock, log } = await lockOverFake(1213, 100);
  const e = await catchAsync(() => lock.acquire());
  await lock.release();
  assert.instance(e, LockBookkeepingError);
  const err = e as LockBookkeepingError;
  assert.equal([err.errno, err.attempts, err.step, err.exitCode, log.inserts], [1213, 4, 'insert the lock row', 8, 4]);
  assert.match(
    err.message,
    'got error 1213 (a deadlock, or a lost Galera certification) 4 times in a row: server error 1213. Nothing was changed by this run.',
  );
  assert.equal(err.fields, { step: 'insert the lock row', errno: 1213, attempts: 4 });
  const other = await lockOverFake(1062, 1);
  const dup = await catchAsync(() => other.lock.acquire());
  await other.lock.release();
  assert.is((dup as { errno: number }).errno, 1062);
  assert.is(other.log.inserts, 1);
});

// ---- one error class per condition (issue 17): the facts travel as typed fields, the exit codes stay

test('errors: Glance bookkeeping glance-db does not know raises UnknownRevisionError, BeforeBaselineError, UnknownLegacyVersionError (exit 11)', async () => {
  const { fromAlembic, fromMigrateVersion } = await import('../src/glance/detect.js');
  const { NEWEST_REVISION, CONTRACT_CHAIN } = await import('../src/glance/revisions.js');
  const rev = catchError(() => fromAlembic(['2099_1_contract01']));
  assert.instance(rev, UnknownRevisionError);
  assert.instance(rev, UnknownVersionError);
  assert.is(rev.revision, '2099_1_contract01');
  assert.is(rev.newestKnown, NEWEST_REVISION);
  assert.equal(rev.fields, { revision: '2099_1_contract01', newestKnown: NEWEST_REVISION });
  assert.is(rev.exitCode, 11);
  const baseline = CONTRACT_CHAIN[0][1];
  const old = catchError(() => fromMigrateVersion(baseline - 1));
  assert.instance(old, BeforeBaselineError);
  assert.equal([old.legacyVersion, old.baseline, old.exitCode], [baseline - 1, baseline, 11]);
  const past = catchError(() => fromMigrateVersion(46));
  assert.instance(past, UnknownLegacyVersionError);
  assert.equal([past.legacyVersion, past.lastLegacy, past.exitCode], [46, 45, 11]);
  assert.is(fromMigrateVersion(baseline).version, baseline);
  assert.is(fromMigrateVersion(45).version, 45);
});

test('errors: a partly applied version whose applied statement changed raises ResumeStatementChangedError (exit 4)', async () => {
  const { resumePoint } = await import('../src/core/resume.js');
  const { statementHash } = await import('../src/platform/checksum.js');
  const row = {
    ...versionOne().row,
    status: 'failed' as const,
    statementsApplied: 2,
    statementsTotal: 3,
    statementHashes: [statementHash('A'), statementHash('B')],
  };
  const stmt = (index: number, text: string) => ({ index, text, line: index + 1, column: 1, offset: 0 });
  assert.is(resumePoint(row, [stmt(0, 'A'), stmt(1, 'B'), stmt(2, 'C')], 'x.sql'), 2);
  const e = catchError(() => resumePoint(row, [stmt(0, 'A'), stmt(1, 'B2'), stmt(2, 'C')], 'x.sql'));
  assert.instance(e, ResumeStatementChangedError);
  assert.equal(
    [e.version, e.file, e.statementIndex, e.applied, e.expected, e.actual, e.exitCode],
    [1, 'x.sql', 1, 2, statementHash('B'), statementHash('B2'), 4],
  );
});

test('errors: --backup failures raise BackupToolMissingError, BackupToolStartError, BackupToolFailedError, BackupWriteError (all exit 15)', async () => {
  const { backupTool, takeBackup } = await import('../src/app/backup.js');
  const pg = parseDatabaseUrl('postgresql://glance:pw@127.0.0.1/glance', '/');
  const path = process.env.PATH;
  process.env.PATH = '';
  let missing: unknown;
  try {
    missing = catchError(() => backupTool(pg, process.env));
  } finally {
    process.env.PATH = path;
  }
  assert.instance(missing, BackupToolMissingError);
  assert.equal(
    [(missing as BackupToolMissingError).tools, (missing as BackupToolMissingError).clientPackage],
    [['pg_dump'], 'postgresql-client'],
  );
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-backup-errors-'));
  const start = await catchAsync(() => takeBackup(pg, dir, 45, join(dir, 'no-such-pg_dump'), process.env));
  assert.instance(start, BackupToolStartError);
  assert.is((start as BackupToolStartError).tool, 'no-such-pg_dump');
  const failed = await catchAsync(() => takeBackup(pg, dir, 45, '/bin/false', process.env));
  assert.instance(failed, BackupToolFailedError);
  assert.equal(
    [
      (failed as BackupToolFailedError).tool,
      (failed as BackupToolFailedError).toolExit,
      (failed as BackupToolFailedError).exitCode,
    ],
    ['false', 1, 15],
  );
  writeFileSync(join(dir, 'a-file'), '');
  const sqlite = parseDatabaseUrl(`sqlite:${join(dir, 'g.sqlite')}`, dir);
  const write = await catchAsync(() => takeBackup(sqlite, join(dir, 'a-file', 'backups'), 45, null, process.env));
  assert.instance(write, BackupWriteError);
  assert.is((write as BackupWriteError).path, join(dir, 'a-file', 'backups'));
  assert.match(
    (write as BackupWriteError).reason,
    /^a part of the path is not a folder \(.*\/a-file is a regular file\)$/,
  );
  for (const e of [start, failed, write]) assert.instance(e, BackupFailedError);
});

test('errors: lint raises ReleasedFileChangedError, ReleasedVersionRemovedError (exit 4), VersionsNotLockedError, LockFileUnreadableError (exit 3)', async () => {
  const { loadManifest } = await import('../src/core/manifest/load.js');
  const { currentEntries, lint } = await import('../src/app/lint.js');
  const { lockPath, writeLock } = await import('../src/core/checksums-lock.js');
  const dir = makeProject();
  try {
    const m = loadManifest(join(dir, 'glance-db.yaml'));
    const entries = currentEntries(m);
    writeLock(m, entries.slice(0, -1));
    const added = catchError(() => lint(m, false));
    assert.instance(added, VersionsNotLockedError);
    assert.equal(
      [added.added, added.exitCode],
      [[`${entries[entries.length - 1].version} ${entries[entries.length - 1].dialect}`], 3],
    );
    writeLock(m, [...entries, { ...entries[0], version: 999, file: 'sql/sqlite/999_gone.sql' }]);
    const removed = catchError(() => lint(m, false));
    assert.instance(removed, ReleasedVersionRemovedError);
    assert.equal(
      [
        removed.removed.map((e: { version: number; dialect: string }) => `${e.version} ${e.dialect}`),
        removed.fields.removed,
        removed.exitCode,
      ],
      [[`999 ${entries[0].dialect}`], [{ version: 999, dialect: entries[0].dialect }], 4],
    );
    writeLock(m, entries);
    const first = join(dir, entries[0].file);
    writeFileSync(first, `-- edited\n${readFileSync(first, 'utf8')}`);
    const changed = catchError(() => lint(m, false));
    assert.instance(changed, ReleasedFileChangedError);
    assert.is(changed.changed.length, 1);
    assert.equal(
      [changed.changed[0].version, changed.changed[0].locked, changed.exitCode],
      [entries[0].version, entries[0].checksum, 4],
    );
    assert.is.not(changed.changed[0].checksum, entries[0].checksum);
    rmSync(lockPath(m));
    mkdirSync(lockPath(m));
    const unreadable = catchError(() => lint(m, false));
    assert.instance(unreadable, LockFileUnreadableError);
    assert.equal([unreadable.path, unreadable.exitCode], [lockPath(m), 3]);
  } finally {
    removeProject(dir);
  }
});

test('data commands (metadefs, purge) run at any version from 42, glance-db or glance-manage managed, and refuse only a partly applied version (14), an open rolling window (13), no bookkeeping (5), a missing table (12), a version before the baseline (11)', async () => {
  const { loadManifest } = await import('../src/core/manifest/load.js');
  const { readMigrationFile } = await import('../src/core/files.js');
  const { requireDataReady, METADEF_TABLE_NAMES } = await import('../src/glance/require-latest.js');
  const manifest = loadManifest(join(ROOT_DIR, 'glance-db.yaml'));
  const ctx = { manifest, target: { display: 'sqlite:/x.sqlite', dialect: 'sqlite' }, selection: [] } as never;
  const rowOf = (version: number, status: 'complete' | 'failed' | 'expanded' = 'complete') => {
    const mig = manifest.migrations.find((m) => m.version === version)!;
    return {
      ...versionOne().row,
      version,
      name: mig.name,
      checksum: readMigrationFile(manifest, mig, 'sqlite').checksum,
      status,
      statementsApplied: status === 'complete' ? 1 : 0,
    };
  };
  const ALL = [
    'images',
    'image_properties',
    'image_locations',
    'image_members',
    'image_tags',
    'tasks',
    'task_info',
    ...METADEF_TABLE_NAMES,
  ];
  const fake = (rows: unknown[], tables: string[] = ALL, alembic: string[] = [], legacy?: number) =>
    ({
      dialect: 'sqlite',
      readHistory: async () => rows,
      listTables: async () => tables,
      query: async (sql: string) =>
        sql.includes('migrate_version') ? [{ version: legacy }] : alembic.map((v) => ({ version_num: v })),
    }) as never;
  const upTo = (v: number) => manifest.migrations.filter((m) => m.version <= v).map((m) => rowOf(m.version));
  const code = async (p: Promise<unknown>) => ((await catchAsync(() => p)) as { exitCode?: number }).exitCode;
  // glance-db at the baseline and at 50 (sync zed): both uses run, nothing asked of the version.
  assert.equal(await requireDataReady(ctx, fake(upTo(42)), 'purge', 'purge'), {
    version: 42,
    managedBy: 'glance-db',
    source: 'glance_db_version',
  });
  assert.equal((await requireDataReady(ctx, fake(upTo(50)), 'metadefs load', 'metadefs')).version, 50);
  // glance-manage at zed, and at mitaka02 (44).
  assert.equal(
    await requireDataReady(ctx, fake([], [...ALL, 'alembic_version'], ['zed_contract01']), 'purge', 'purge'),
    { version: 50, managedBy: 'glance-manage', source: 'alembic_version: zed_contract01' },
  );
  assert.equal(
    (await requireDataReady(ctx, fake([], [...ALL, 'alembic_version'], ['mitaka02']), 'metadefs export', 'metadefs'))
      .version,
    44,
  );
  assert.equal(
    (await requireDataReady(ctx, fake([], [...ALL, 'migrate_version'], [], 43), 'purge', 'purge')).version,
    43,
  );
  // Refused: a partly applied version (14), purge in an open rolling window (13) but metadefs not, 44's data step pending for metadefs (13).
  const partly = await catchAsync(() =>
    requireDataReady(ctx, fake([...upTo(44), rowOf(45, 'failed')]), 'purge', 'purge'),
  );
  assert.instance(partly, PartlyAppliedError);
  assert.equal([(partly as PartlyAppliedError).version, (partly as PartlyAppliedError).exitCode], [45, 14]);
  const rolling = [...upTo(46), rowOf(47, 'expanded')];
  assert.is(await code(requireDataReady(ctx, fake(rolling), 'purge', 'purge')), 13);
  assert.match(
    String(await catchAsync(() => requireDataReady(ctx, fake(rolling), 'purge', 'purge'))),
    'rolling upgrade is open',
  );
  assert.is((await requireDataReady(ctx, fake(rolling), 'metadefs load', 'metadefs')).version, 46);
  assert.is(
    await code(requireDataReady(ctx, fake([...upTo(43), rowOf(45, 'expanded')]), 'metadefs load', 'metadefs')),
    13,
  );
  const twoHeads = fake([], [...ALL, 'alembic_version'], ['rocky_expand02', 'pike_contract01']);
  assert.is(await code(requireDataReady(ctx, twoHeads, 'purge-images', 'purge')), 13);
  assert.is((await requireDataReady(ctx, twoHeads, 'metadefs diff', 'metadefs')).version, 46);
  // Nothing manages it (5), a table missing (12), before the baseline (11).
  assert.is(await code(requireDataReady(ctx, fake([], ALL), 'purge', 'purge')), 5);
  assert.is(
    await code(
      requireDataReady(
        ctx,
        fake(
          upTo(50),
          ALL.filter((t) => t !== 'metadef_tags'),
        ),
        'metadefs load',
        'metadefs',
      ),
    ),
    12,
  );
  assert.is(
    (
      await requireDataReady(
        ctx,
        fake(
          upTo(50),
          ALL.filter((t) => t !== 'metadef_tags'),
        ),
        'purge',
        'purge',
      )
    ).version,
    50,
  );
  assert.is(await code(requireDataReady(ctx, fake([], [...ALL, 'migrate_version'], [], 30), 'purge', 'purge')), 11);
});

test('errors: SchemaDriftError lives in src/platform/errors.ts (and only there), with the differences as objects (exit 12)', async () => {
  const adopt = await import('../src/glance/adopt.js');
  assert.is((adopt as Record<string, unknown>).SchemaDriftError, undefined);
  const e = new SchemaDriftError('Not that version.', ['images: unexpected index x(owner)'], 'undo it');
  assert.is(e.exitCode, 12);
  assert.is(e.differences[0].table, 'images');
  assert.match(e.message, 'Not that version. Differences: images: unexpected index x(owner).');
});

test('errors: a recorded version whose file cannot be used raises MigrationFileError (a ConfigError, exit 3) with the version and file', async () => {
  const { loadManifest } = await import('../src/core/manifest/load.js');
  const { readMigrationFile } = await import('../src/core/files.js');
  const dir = makeProject();
  try {
    const m = loadManifest(join(dir, 'glance-db.yaml'));
    const mig = m.migrations[1];
    writeFileSync(join(dir, mig.files.sqlite!), Buffer.from('SELECT 1;\0'));
    const e = catchError(() => readMigrationFile(m, mig, 'sqlite'));
    assert.instance(e, MigrationFileError);
    assert.instance(e, ConfigError);
    assert.equal([e.version, e.file, e.exitCode], [mig.version, mig.files.sqlite, 3]);
  } finally {
    removeProject(dir);
  }
});

/** The error fn throws, typed as what the test expects (checked with assert.instance). */
function catchError<T = any>(fn: () => unknown): T {
  try {
    fn();
  } catch (err) {
    return err as T;
  }
  throw new Error('expected an error');
}

async function catchAsync(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

test('rolling hand-back: alembic_version keeps the expand head alone below 45 (mitaka02 is its ancestor), and both heads from 45 on', async () => {
  const { glanceHeads } = await import('../src/glance/heads.js');
  const row = (version: number, status: 'complete' | 'expanded') =>
    ({ version, status }) as unknown as import('../src/core/driver/driver.js').VersionRow;
  const upTo = (complete: number, expandedTo: number) =>
    [42, 43, 44, 45, 46, 47, 48, 49, 50, 51]
      .filter((v) => v <= expandedTo)
      .map((v) => row(v, v <= complete ? 'complete' : 'expanded'));
  // Two rows such as (2024_1_expand01, mitaka02) make glance-manage's next `alembic upgrade` fail: "overlaps with other requested revisions".
  assert.equal(glanceHeads(upTo(44, 51)), ['2024_1_expand01']);
  assert.equal(glanceHeads(upTo(43, 51)), ['2024_1_expand01']);
  assert.equal(glanceHeads(upTo(44, 45)), ['ocata_expand01']);
  assert.equal(glanceHeads(upTo(45, 51)), ['2024_1_expand01', 'ocata_contract01']);
  assert.equal(glanceHeads(upTo(48, 51)), ['2024_1_expand01', 'rocky_contract02']);
  assert.equal(glanceHeads(upTo(51, 51)), ['2024_1_contract01']);
});

test.run();
