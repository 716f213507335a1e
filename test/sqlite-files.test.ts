// SQLite files as real hosts hand them over (issue 16): WAL and hot journals,
// symbolic and hard links, planted links, devices and folders, owner and
// mode, full disks, damaged files, signals during the write-back, and the
// OS-level lock. Each test starts from a file glance-db or a real SQLite made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  BIN,
  cleanEnv,
  cli,
  lockedSqliteDriver,
  makeProject,
  removeProject,
  versionOne,
  LATEST,
  runCli,
} from './helpers.js';
import { holdFlock } from './flock-holder.js';
import { applyVersion } from '../src/core/apply.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const noStack = (r: { stderr: string }) => assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
const sqlite3 = (db: string, sql: string) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
const py = (script: string, ...args: string[]) => {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
};
const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

function withProject(name: string, fn: (dir: string, db: string) => Promise<void> | void) {
  test(name, async () => {
    const dir = makeProject();
    try {
      await fn(dir, join(dir, 'glance.sqlite'));
    } finally {
      removeProject(dir);
    }
  });
}

/** A tmpfs of the given size mounted at dir for fn (root only); false when this machine cannot mount one. */
async function withTmpfs(dir: string, size: string, fn: () => Promise<void> | void): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]).status !== 0) {
    console.error(`SKIP: cannot mount a tmpfs at ${dir} (needs root); the disk-full and read-only trials did not run`);
    return false;
  }
  try {
    await fn();
  } finally {
    spawnSync('umount', [dir]);
  }
  return true;
}

// A Python sqlite3 session that commits in WAL mode and dies without a
// checkpoint: the committed rows are only in glance.sqlite-wal.
const LEAVE_WAL = `
import sqlite3, os, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')
c.execute('CREATE TABLE keep_me (x INTEGER)')
c.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO keep_me SELECT i FROM n')
os._exit(0)
`;

// A session killed in the middle of a transaction that spilled into the main
// file: a hot rollback journal beside it.
const LEAVE_HOT_JOURNAL = `
import sqlite3, os, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA journal_mode=DELETE'); c.execute('PRAGMA cache_size=1')
c.execute('CREATE TABLE filler (x BLOB)')
c.execute('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO filler SELECT randomblob(1000) FROM n')
c.execute('BEGIN'); c.execute('UPDATE filler SET x = zeroblob(1000)')
os._exit(0)
`;

/** The shell command a hint asks for: everything from "sqlite3 " to " then". */
const hintCommand = (stderr: string) => /hint: .*?(sqlite3 .*?) then run glance-db again/.exec(stderr)?.[1];

withProject(
  'WAL: a database with committed transactions in its -wal is refused (exit 21), unchanged; after the printed command, sync keeps them',
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    py(LEAVE_WAL, db);
    assert.ok(statSync(`${db}-wal`).size > 0, 'the fixture left a WAL');
    const [main, wal] = [sha(db), sha(`${db}-wal`)];
    for (const args of [['sync'], ['version']]) {
      const r = await runCli(args, { cwd: dir });
      assert.is(r.code, 21, `${args}: ${r.stderr}`);
      assert.match(r.stderr, 'has a write-ahead log');
      assert.match(r.stderr, `sqlite3 ${db} 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;'`);
      noStack(r);
    }
    assert.equal([sha(db), sha(`${db}-wal`)], [main, wal], 'nothing changed');
    const fix = spawnSync('sh', ['-c', hintCommand((await runCli(['sync'], { cwd: dir })).stderr)!], {
      encoding: 'utf8',
    });
    assert.is(fix.status, 0, fix.stderr);
    // keep_me is a hand-made table: sync refuses drift unless told.
    const r = await runCli(['sync', '--accept-drift'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.is(
      sqlite3(db, `PRAGMA integrity_check; SELECT count(*) FROM keep_me; SELECT max(version) FROM glance_db_version;`)
        .stdout,
      `ok\n100\n${LATEST}\n`,
    );
  },
);

test('WAL: a -wal that another program starts filling during the run stops the write-back (exit 10), file unchanged', async () => {
  const { file, driver } = await lockedSqliteDriver();
  try {
    await driver.readHistory();
    const before = sha(file);
    await applyVersion(driver, versionOne());
    writeFileSync(`${file}-wal`, Buffer.alloc(4096, 1));
    try {
      await driver.close();
      assert.unreachable('wrote the file under a live WAL');
    } catch (err) {
      assert.is((err as { exitCode: number }).exitCode, 10);
      assert.match((err as Error).message, 'write-ahead log now holds transactions');
    }
    assert.is(sha(file), before);
  } finally {
    await driver.close();
  }
});

withProject(
  'hot journal: refused (exit 21) and unchanged; after the printed command, sync works on the rolled-back file',
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    py(LEAVE_HOT_JOURNAL, db);
    assert.ok(existsSync(`${db}-journal`), 'the fixture left a journal');
    const before = sha(db);
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 21, r.stderr);
    assert.match(r.stderr, 'has a hot rollback journal');
    noStack(r);
    assert.is(sha(db), before);
    const fix = spawnSync('sh', ['-c', hintCommand(r.stderr)!], { encoding: 'utf8' });
    assert.is(fix.stdout, 'ok\n', fix.stderr);
    // filler is a hand-made table: sync refuses drift unless told.
    const ok = await runCli(['sync', '--accept-drift'], { cwd: dir });
    assert.is(ok.code, 0, ok.stderr);
    assert.is(
      sqlite3(db, 'PRAGMA integrity_check; SELECT count(*) FROM filler WHERE x = zeroblob(1000);').stdout,
      'ok\n0\n',
      'the interrupted update stays rolled back',
    );
  },
);

withProject(
  'symbolic link: the upgrade lands in the real file, the link stays a link, and link and real path share one lock',
  async (dir) => {
    mkdirSync(join(dir, 'data'));
    const real = join(dir, 'data', 'real.sqlite');
    const link = join(dir, 'glance.sqlite');
    assert.is((await runCli(['sync', '44', '--url', `sqlite:${real}`], { cwd: dir })).code, 0);
    symlinkSync('data/real.sqlite', link);
    const holder = await holdFlock(`${real}.lock`);
    try {
      const locked = cli(['sync', '--lock-wait', '1'], { cwd: dir });
      assert.is(
        locked.code,
        8,
        `a run through the link must wait for the lock taken through the real path: ${locked.stderr}`,
      );
    } finally {
      await holder.release();
    }
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.ok(lstatSync(link).isSymbolicLink(), 'still a link');
    assert.is((await runCli(['version', '--url', `sqlite:${real}`], { cwd: dir })).stdout, `${LATEST}\n`);
    assert.equal(temps(dir).concat(temps(join(dir, 'data'))), []);
    const dangling = join(dir, 'dangling.sqlite');
    symlinkSync('data/nothing-here.sqlite', dangling);
    const d = await runCli(['sync', '--url', `sqlite:${dangling}`], { cwd: dir });
    assert.is(d.code, 20, d.stderr);
    assert.match(d.stderr, 'symbolic link that leads to no file');
    assert.not.ok(existsSync(join(dir, 'data', 'nothing-here.sqlite')));
  },
);

withProject(
  'hard link: a write-back that would split the file is refused (exit 20) through either name; reading works',
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    const other = join(dir, 'other-name.sqlite');
    linkSync(db, other);
    const before = sha(db);
    for (const url of [`sqlite:${db}`, `sqlite:${other}`]) {
      const r = await runCli(['sync', '--url', url], { cwd: dir });
      assert.is(r.code, 20, r.stderr);
      assert.match(r.stderr, 'has 2 names (hard links)');
      noStack(r);
    }
    assert.is(sha(db), before);
    assert.is(statSync(db).ino, statSync(other).ino, 'still one file');
    assert.is((await runCli(['version', '--url', `sqlite:${other}`], { cwd: dir })).stdout, '44\n');
  },
);

withProject(
  'planted links: a link at the lock file or in a world-writable folder is never followed; the victim is untouched',
  async (dir, db) => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, `${db}.lock`);
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 20, r.stderr);
    assert.match(r.stderr, 'is a symbolic link, which glance-db never follows');
    assert.is(readFileSync(victim, 'utf8'), 'precious');
    assert.not.ok(existsSync(db));
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const w = await runCli(['sync', '--url', `sqlite:${join(open, 'g.sqlite')}`], { cwd: dir });
    assert.is(w.code, 20, w.stderr);
    assert.match(w.stderr, 'is writable by every user and not sticky');
    assert.equal(readdirSync(open), []);
    chmodSync(open, 0o1777);
    const sticky = await runCli(['sync', '43', '--url', `sqlite:${join(open, 'g.sqlite')}`], { cwd: dir });
    assert.is(sticky.code, 0, `a sticky folder owned by root (like /tmp) is fine: ${sticky.stderr}`);
  },
);

withProject(
  'not a regular file: a device, a folder named x.sqlite and a named pipe are refused (exit 20), nothing replaced',
  async (dir) => {
    const dev = join(dir, 'null.sqlite');
    assert.is(spawnSync('mknod', [dev, 'c', '1', '3']).status, 0, 'mknod (as /dev/null)');
    const folder = join(dir, 'x.sqlite');
    mkdirSync(folder);
    const fifo = join(dir, 'fifo.sqlite');
    assert.is(spawnSync('mkfifo', [fifo]).status, 0);
    for (const [path, kind] of [
      [dev, 'a character device'],
      [folder, 'a folder'],
      [fifo, 'a named pipe'],
    ]) {
      for (const cmd of ['sync', 'version']) {
        const r = await runCli([cmd, '--url', `sqlite:${path}`], { cwd: dir });
        assert.is(r.code, 20, `${cmd} ${path}: ${r.stderr}`);
        assert.match(r.stderr, `is ${kind}, not a SQLite database file`);
        noStack(r);
      }
    }
    assert.ok(lstatSync(dev).isCharacterDevice());
    assert.ok(lstatSync(folder).isDirectory());
    assert.ok(lstatSync(fifo).isFIFO());
  },
);

withProject(
  "owner, group and mode: the rewritten file keeps the original's; a read-only file is refused (exit 20)",
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    chownSync(db, 65534, 65534);
    chmodSync(db, 0o640);
    const r = await runCli(['sync', '46'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    const st = statSync(db);
    assert.equal([st.uid, st.gid, st.mode & 0o7777], [65534, 65534, 0o640]);
    chmodSync(db, 0o444);
    const before = sha(db);
    const ro = await runCli(['sync'], { cwd: dir });
    assert.is(ro.code, 20, ro.stderr);
    assert.match(ro.stderr, 'is read-only (mode 0444');
    noStack(ro);
    assert.is(sha(db), before);
    assert.is(statSync(db).mode & 0o7777, 0o444);
    assert.is(
      (await runCli(['sync', '46'], { cwd: dir })).code,
      0,
      'nothing to write: a read-only file at its version is fine',
    );
  },
);

withProject(
  'as an unprivileged user: an unwritable lock file is still locked; a folder it cannot write and a file it does not own are refused (exit 20)',
  async (dir) => {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) {
      console.error('SKIP: needs root and setpriv to run glance-db as another user');
      return;
    }
    chmodSync(dir, 0o755);
    const asNobody = (args: string[]) => {
      const r = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args],
        { cwd: dir, encoding: 'utf8', env: cleanEnv() },
      );
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    chownSync(mine, 65534, 65534);
    const db = join(mine, 'g.sqlite');
    assert.is((await runCli(['sync', '44', '--url', `sqlite:${db}`], { cwd: dir })).code, 0);
    chownSync(db, 65534, 65534);
    // A lock file left by root, which this user cannot write: flock needs only read access.
    writeFileSync(`${db}.lock`, '');
    chmodSync(`${db}.lock`, 0o644);
    const r = asNobody(['sync', '45', '--url', `sqlite:${db}`]);
    assert.is(r.code, 0, r.stderr);
    assert.is(statSync(db).uid, 65534);
    // A file owned by root in a folder this user may write: the rewrite would change its owner.
    chownSync(db, 0, 0);
    chmodSync(db, 0o666);
    const before = sha(db);
    const owned = asNobody(['sync', '46', '--url', `sqlite:${db}`]);
    assert.is(owned.code, 20, owned.stderr);
    assert.match(owned.stderr, 'belongs to user 0, and glance-db runs as user 65534');
    noStack(owned);
    assert.is(sha(db), before);
    // A folder this user cannot write.
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    const db2 = join(theirs, 'g.sqlite');
    assert.is((await runCli(['sync', '44', '--url', `sqlite:${db2}`], { cwd: dir })).code, 0);
    chownSync(db2, 65534, 65534);
    const ro = asNobody(['sync', '--url', `sqlite:${db2}`]);
    assert.is(ro.code, 20, ro.stderr);
    assert.match(ro.stderr, 'cannot be written (permission denied)');
    noStack(ro);
    assert.is(asNobody(['version', '--url', `sqlite:${db2}`]).stdout, '44\n');
  },
);

withProject('--backup of a SQLite file: the copy is 0600 in a 0700 folder', async (dir) => {
  assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
  const r = await runCli(['sync', '--backup', '--json'], { cwd: dir });
  assert.is(r.code, 0, r.stderr);
  const backup = JSON.parse(r.stdout).backup as string;
  assert.is(statSync(backup).mode & 0o777, 0o600);
  assert.is(statSync(join(dir, 'glance-db-backups')).mode & 0o777, 0o700);
  assert.is((await runCli(['version', '--url', `sqlite:${backup}`], { cwd: dir })).stdout, '44\n');
});

withProject(
  'damaged files: "SQLite format 3\\0garbage" and truncated files get exit 21 and a message, never exit 1',
  async (dir, db) => {
    assert.is((await runCli(['sync'], { cwd: dir })).code, 0);
    const good = readFileSync(db);
    const cases: [string, Buffer, RegExp][] = [
      [
        'garbage after the header',
        Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.from('garbage'.repeat(200))]),
        /is a damaged SQLite file/,
      ],
      [
        'cut in the middle of a page',
        good.subarray(0, Math.floor(good.length / 2) + 100),
        /not a whole number of \d+-byte pages/,
      ],
      [
        'cut at a page boundary',
        good.subarray(0, 4096 * 3),
        /its header counts \d+ pages and the file holds 3 \(truncated\)/,
      ],
      ['only the magic', Buffer.from('SQLite format 3\0'), /shorter than a SQLite header/],
    ];
    for (const [name, bytes, message] of cases) {
      writeFileSync(db, bytes);
      for (const cmd of ['sync', 'version', 'verify']) {
        const r = await runCli([cmd], { cwd: dir });
        assert.is(r.code, 21, `${name}, ${cmd}: ${r.stderr}`);
        assert.match(r.stderr, message);
        noStack(r);
      }
      assert.ok(readFileSync(db).equals(bytes), `${name}: unchanged`);
    }
  },
);

withProject('a lock file that is a folder: exit 20 with its own message', async (dir, db) => {
  mkdirSync(`${db}.lock`);
  const r = await runCli(['sync'], { cwd: dir });
  assert.is(r.code, 20, r.stderr);
  assert.match(r.stderr, `the lock file ${db}.lock cannot be created or opened (EISDIR)`);
  noStack(r);
});

withProject(
  'OS lock: a live holder keeps others out whatever the file says; a dead one never does, whatever the file says',
  async (dir, db) => {
    const lock = `${db}.lock`;
    for (const content of ['', 'garbage', JSON.stringify({ pid: 999999, host: 'elsewhere', startedAt: 'x' })]) {
      writeFileSync(lock, content);
      const holder = await holdFlock(lock);
      try {
        const r = cli(['sync', '--lock-wait', '1'], { cwd: dir });
        assert.is(r.code, 8, `content ${JSON.stringify(content)}: ${r.stderr}`);
        assert.not.ok(existsSync(db));
      } finally {
        await holder.release();
      }
    }
    // Left by a dead run: empty, garbage, or naming this very process (glance-db as PID 1 in a
    // container, killed and rerun, finds its own PID in the file).
    for (const content of [
      '',
      '{"pid":',
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'earlier' }),
    ]) {
      writeFileSync(lock, content);
      const r = cli(['sync', '43', '--lock-wait', '1'], { cwd: dir });
      assert.is(r.code, 0, `content ${JSON.stringify(content)}: ${r.stderr}`);
      assert.not.ok(existsSync(lock), 'released');
    }
  },
);

test('disk full: refused before writing (exit 17), no temporary file, file unchanged; room made, sync works', async () => {
  const dir = makeProject();
  const mnt = join(dir, 'vol');
  try {
    await withTmpfs(mnt, '4m', async () => {
      const db = join(mnt, 'glance.sqlite');
      assert.is((await runCli(['sync', '44', '--url', `sqlite:${db}`], { cwd: dir })).code, 0);
      const free = Number(spawnSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).stdout.split('\n')[1]);
      // Leave less free space than the file's size.
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free - statSync(db).size / 2)));
      const before = sha(db);
      const r = await runCli(['sync', '--url', `sqlite:${db}`], { cwd: dir });
      assert.is(r.code, 17, r.stderr);
      assert.match(
        r.stderr,
        /Not enough free disk space to write .* back: it needs \d+\.\d MiB, and \d+\.\d MiB is free/,
      );
      noStack(r);
      assert.is(sha(db), before);
      assert.equal(temps(mnt), []);
      truncateSync(join(mnt, 'filler'), 0);
      const ok = await runCli(['sync', '--url', `sqlite:${db}`], { cwd: dir });
      assert.is(ok.code, 0, ok.stderr);
      assert.equal(temps(mnt), []);
    });
  } finally {
    removeProject(dir);
  }
});

test('disk full during the write (the free-space check passed): exit 17, temporary file removed, old file intact', async () => {
  const { writeFileAtomic } = await import('../src/platform/atomic-write.js');
  const dir = makeProject();
  const mnt = join(dir, 'vol');
  try {
    await withTmpfs(mnt, '1m', () => {
      const path = join(mnt, 'db.sqlite');
      writeFileSync(path, 'old content');
      try {
        writeFileAtomic(path, Buffer.alloc(2 * 1024 * 1024, 7), {
          freeBytes: () => Number.MAX_SAFE_INTEGER,
        } as Parameters<typeof writeFileAtomic>[2]);
        assert.unreachable('wrote 2 MiB on a 1 MiB volume');
      } catch (err) {
        assert.is((err as { exitCode: number }).exitCode, 17, String(err));
      }
      assert.is(readFileSync(path, 'utf8'), 'old content');
      assert.equal(readdirSync(mnt), ['db.sqlite']);
    });
  } finally {
    removeProject(dir);
  }
});

test('read-only file system: sync is refused (exit 20) with its own message; version still reads', async () => {
  const dir = makeProject();
  const mnt = join(dir, 'vol');
  try {
    await withTmpfs(mnt, '4m', async () => {
      const db = join(mnt, 'glance.sqlite');
      assert.is((await runCli(['sync', '44', '--url', `sqlite:${db}`], { cwd: dir })).code, 0);
      assert.is(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
      const r = await runCli(['sync', '--url', `sqlite:${db}`], { cwd: dir });
      assert.is(r.code, 20, r.stderr);
      assert.match(r.stderr, 'cannot be written (the file system is read-only)');
      noStack(r);
      assert.is((await runCli(['version', '--url', `sqlite:${db}`], { cwd: dir })).stdout, '44\n');
    });
  } finally {
    removeProject(dir);
  }
});

withProject(
  'SIGINT and SIGTERM during a write-back never leave a temporary file; the file stays sound',
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    // About 40 MB, so that each write-back takes a while.
    assert.is(
      sqlite3(
        db,
        'CREATE TABLE ballast (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) INSERT INTO ballast SELECT randomblob(1000) FROM n;',
      ).status,
      0,
    );
    const base = readFileSync(db);
    for (const [i, sig] of (['SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM'] as const).entries()) {
      writeFileSync(db, base);
      // ballast is a hand-made table: sync refuses drift unless told.
      const child = spawn(process.execPath, [BIN, 'sync', '--accept-drift'], {
        cwd: dir,
        stdio: 'ignore',
        env: cleanEnv(),
      });
      const closed = new Promise((r) => child.once('close', r));
      // Signal once the first temporary file appears (a write-back under way), or after the i-th version.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (temps(dir).length > 0 || child.exitCode !== null) {
            clearInterval(poll);
            resolve();
          }
        }, 2 + i);
      });
      child.kill(sig);
      await closed;
      assert.equal(temps(dir), [], `${sig}: temporary file left`);
      assert.not.ok(existsSync(`${db}.lock`), `${sig}: lock file left`);
      assert.is(sqlite3(db, 'PRAGMA integrity_check;').stdout, 'ok\n');
    }
    assert.is((await runCli(['sync', '--accept-drift'], { cwd: dir })).code, 0);
  },
);

test('atomic write: a symbolic link planted at a temporary name is never followed', async () => {
  const { writeFileAtomic } = await import('../src/platform/atomic-write.js');
  const dir = makeProject();
  try {
    const path = join(dir, 'db.sqlite');
    writeFileSync(path, 'old');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    // The name glance-db used before, predictable from its PID.
    symlinkSync(victim, join(dir, `.db.sqlite.${process.pid}.tmp`));
    writeFileAtomic(path, Buffer.from('new'));
    assert.equal(
      [readFileSync(victim, 'utf8'), readFileSync(path, 'utf8'), lstatSync(path).isFile()],
      ['precious', 'new', true],
    );
    // A link planted at whatever name is chosen is refused, not followed.
    const planted = join(dir, '.planted.tmp');
    symlinkSync(victim, planted);
    assert.throws(
      () =>
        writeFileAtomic(path, Buffer.from('newer'), { tempPath: () => planted } as Parameters<
          typeof writeFileAtomic
        >[2]),
      /EEXIST/,
    );
    assert.equal([readFileSync(victim, 'utf8'), readFileSync(path, 'utf8')], ['precious', 'new']);
  } finally {
    removeProject(dir);
  }
});

test.run();
