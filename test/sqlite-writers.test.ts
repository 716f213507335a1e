// Other programs writing the SQLite file while glance-db works on it (issue
// 32): glance-api's Python sqlite3 and the sqlite3 shell, real processes with
// their own SQLite. glance-db holds SQLite's own lock from before it reads the
// file until after it has replaced it: their writes wait or fail with an
// error they see, and a row one of them committed and read back is never
// lost. scripts/sqlite-file-trials.mjs concurrent-writers runs the same at
// random timings, hundreds of times.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliAsync, cli, makeProject, removeProject, LATEST } from './helpers.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const sqlite3 = (db: string, sql: string) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
const noStack = (r: { stderr: string }) => assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');

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

/** A database at 44 with about 40 MB beside Glance's tables, so that each write-back takes a while. */
function bigAt44(dir: string, db: string): void {
  assert.is(cli(['sync', '44'], { cwd: dir }).code, 0);
  const r = sqlite3(
    db,
    `CREATE TABLE writes (who TEXT PRIMARY KEY);
    CREATE TABLE ballast (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) INSERT INTO ballast SELECT randomblob(1000) FROM n;`,
  );
  assert.is(r.status, 0, r.stderr);
}

const rows = (db: string) => sqlite3(db, 'SELECT who FROM writes ORDER BY who').stdout.split('\n').filter(Boolean);

/** Resolves once glance-db's temporary file for a write-back is there (the old window: after the check, before the rename). */
function writeBackUnderWay(dir: string, done: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const seen = readdirSync(dir).some((f) => /^\.glance\.sqlite\.glance-db-[0-9a-f]+\.tmp$/.test(f));
      if (seen || done()) {
        clearInterval(poll);
        resolve(seen);
      }
    }, 1);
  });
}

// Python, as glance-api writes: a new connection, INSERT, commit, read back;
// started beforehand, it writes when told on stdin.
const PY_INSERT = `
import sqlite3, sys
print('ready', flush=True)
sys.stdin.readline()
try:
    c = sqlite3.connect(sys.argv[1], timeout=float(sys.argv[3]))
    c.execute('INSERT INTO writes VALUES (?)', (sys.argv[2],))
    c.commit()
    n = c.execute('SELECT count(*) FROM writes WHERE who = ?', (sys.argv[2],)).fetchone()[0]
    print('ok' if n == 1 else 'not read back')
except sqlite3.Error as e:
    print('error', getattr(e, 'sqlite_errorname', ''), e)
`;

/**
 * A writer of each kind, Python's sqlite3 or the sqlite3 shell, started:
 * once ready, it has not touched the file yet; go() makes it insert `who`
 * and read it back, and resolves to what it believes happened ("ok", or
 * its error).
 */
async function writer(
  kind: 'python' | 'shell',
  db: string,
  who: string,
  timeoutS: number,
): Promise<() => Promise<string>> {
  const child =
    kind === 'python'
      ? spawn('python3', ['-c', PY_INSERT, db, who, String(timeoutS)], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn('sqlite3', ['-cmd', `.timeout ${timeoutS * 1000}`, db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  if (kind === 'shell') child.stdin!.write('.print ready\n');
  while (!out.startsWith('ready\n')) await new Promise((r) => setTimeout(r, 2));
  return async () => {
    child.stdin!.end(
      kind === 'python'
        ? '\n'
        : `INSERT INTO writes VALUES ('${who}'); SELECT 'ok' FROM writes WHERE who = '${who}';\n`,
    );
    const code = await closed;
    const said = out.slice('ready\n'.length).trim();
    return kind === 'shell' && (code !== 0 || said !== 'ok') ? `error ${said}` : said;
  };
}

const write = async (kind: 'python' | 'shell', db: string, who: string, timeoutS: number) =>
  (await writer(kind, db, who, timeoutS))();

withProject(
  'a row another program commits while glance-db replaces the file is never lost: Python sqlite3 and the sqlite3 shell wait or get an error',
  async (dir, db) => {
    bigAt44(dir, db);
    const base = readFileSync(db);
    for (const kind of ['python', 'shell'] as const) {
      for (const timeoutS of [0, 5]) {
        writeFileSync(db, base);
        const before = rows(db);
        const who = `${kind}-${timeoutS}`;
        const go = await writer(kind, db, who, timeoutS);
        let finished = false;
        // writes is a hand-made table: sync refuses drift unless told.
        const run = cliAsync(['sync', '--accept-drift'], { cwd: dir }).then((r) => {
          finished = true;
          return r;
        });
        const seen = await writeBackUnderWay(dir, () => finished);
        const said = seen ? await go() : (await go(), 'not tried');
        const r = await run;
        assert.is(r.code, 0, `${who}: ${r.stderr}`);
        assert.is.not(said, 'not tried', `${who}: the write-back was not seen`);
        const after = rows(db);
        if (said === 'ok') assert.ok(after.includes(who), `${who}: committed and read back, then lost`);
        // Held off: "database is locked" (its busy timeout ran out), or, when it got the old file's
        // lock after the rename, "attempt to write a readonly database" (SQLITE_READONLY_DBMOVED).
        else
          assert.match(
            said,
            /database is locked|readonly database|SQLITE_BUSY|SQLITE_READONLY_DBMOVED/,
            `${who}: ${said}`,
          );
        assert.equal(
          after.filter((w) => w !== who),
          before,
        );
        assert.is(
          sqlite3(db, 'PRAGMA integrity_check; SELECT max(version) FROM glance_db_version;').stdout,
          `ok\n${LATEST}\n`,
        );
        // And the file takes writes again once glance-db is done.
        assert.is(await write(kind, db, `${who}-after`, 1), 'ok');
      }
    }
  },
);

// A Python session that holds a write transaction open (as glance-api does in
// the middle of a request) until told on stdin; prints "holding" once it has
// SQLite's RESERVED lock.
const PY_HOLD = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == 'wal':
    c.execute('PRAGMA journal_mode=WAL')
    c.execute('INSERT INTO writes VALUES (?)', ('wal-committed',))
    print('holding', flush=True)
    sys.stdin.readline()
else:
    c.execute('BEGIN IMMEDIATE')
    c.execute('INSERT INTO writes VALUES (?)', ('held',))
    print('holding', flush=True)
    sys.stdin.readline()
    c.execute('COMMIT')
print('done', flush=True)
`;

function holdWith(db: string, mode: 'write' | 'wal'): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', PY_HOLD, db, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

const finish = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.stdin!.end('\n');
  });

withProject(
  "a writer holding SQLite's lock when glance-db starts: glance-db waits --lock-wait, exits 8 naming the file, and changes nothing",
  async (dir, db) => {
    assert.is(cli(['sync', '44'], { cwd: dir }).code, 0);
    assert.is(sqlite3(db, 'CREATE TABLE writes (who TEXT PRIMARY KEY);').status, 0);
    const before = sha(db);
    const holder = await holdWith(db, 'write');
    try {
      for (const args of [['sync', '--accept-drift'], ['repair'], ['expand']]) {
        const started = Date.now();
        const r = cli([...args, '--lock-wait', '1'], { cwd: dir });
        assert.is(r.code, 8, `${args}: ${r.stderr}`);
        assert.ok(Date.now() - started >= 1000, 'waited --lock-wait');
        assert.match(r.stderr, `${db} is being written by another program, which holds SQLite's write lock on it`);
        assert.match(r.stderr, 'Nothing was changed.');
        noStack(r);
        assert.is(sha(db), before);
      }
      // Reading is not writing: version reads while the writer's transaction is open (its journal is live, not hot).
      const v = cli(['version'], { cwd: dir });
      assert.is(v.code, 0, v.stderr);
      assert.is(v.stdout, '44\n');
    } finally {
      await finish(holder);
    }
    const r = cli(['sync', '--accept-drift'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.equal(rows(db), ['held']);
  },
);

// A writer whose transaction outgrew its page cache: SQLite has synced the
// journal (with its header) and holds EXCLUSIVE while it writes pages into
// the file; it commits when told on stdin.
const PY_SPILL = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('PRAGMA cache_size=1')
c.execute('BEGIN')
c.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO writes SELECT 'spill-' || i FROM n")
print('holding', flush=True)
sys.stdin.readline()
c.execute('COMMIT')
`;

withProject(
  'a writer in the middle of a big commit: version waits for it and reads the committed file (its journal is live, not hot: not exit 21)',
  async (dir, db) => {
    assert.is(cli(['sync', '44'], { cwd: dir }).code, 0);
    assert.is(sqlite3(db, 'CREATE TABLE writes (who TEXT PRIMARY KEY);').status, 0);
    const child = spawn('python3', ['-c', PY_SPILL, db], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    assert.equal(
      [...readFileSync(`${db}-journal`).subarray(0, 8)],
      [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7],
      'the journal has its header, as a hot one would',
    );
    const closed = new Promise((resolve) => child.once('close', resolve));
    setTimeout(() => child.stdin!.end('\n'), 1000);
    const r = await cliAsync(['version', '--lock-wait', '30'], { cwd: dir });
    await closed;
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, '44\n');
    assert.is(rows(db).length, 2000);
  },
);

withProject(
  'a writer that kept the old file open across a write-back gets an error from its own SQLite (SQLITE_READONLY_DBMOVED), never a silent write',
  async (dir, db) => {
    assert.is(cli(['sync', '44'], { cwd: dir }).code, 0);
    assert.is(sqlite3(db, 'CREATE TABLE writes (who TEXT PRIMARY KEY);').status, 0);
    // Python (glance-api's pool keeps connections open) and an interactive sqlite3 shell, both used before the run.
    const py = spawn(
      'python3',
      [
        '-u',
        '-c',
        `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=0.2)
for line in sys.stdin:
    who = line.strip()
    try:
        c.execute('INSERT INTO writes VALUES (?)', (who,)); c.commit(); print('ok', who)
    except sqlite3.Error as e:
        c.rollback(); print('error', who, getattr(e, 'sqlite_errorname', ''), e)
`,
        db,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const shell = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
    let pyOut = '';
    let shellOut = '';
    let shellErr = '';
    py.stdout!.on('data', (d) => (pyOut += d));
    shell.stdout!.on('data', (d) => (shellOut += d));
    shell.stderr!.on('data', (d) => (shellErr += d));
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      py.stdin!.write('py-before\n');
      shell.stdin!.write(".timeout 200\nINSERT INTO writes VALUES ('shell-before'); SELECT 'ok shell-before';\n");
      await until(() => pyOut.includes('ok py-before') && shellOut.includes('ok shell-before'));
      const r = cli(['sync', '--accept-drift'], { cwd: dir });
      assert.is(r.code, 0, r.stderr);
      py.stdin!.write('py-after\n');
      shell.stdin!.write("INSERT INTO writes VALUES ('shell-after'); SELECT 'done';\n");
      await until(() => /py-after/.test(pyOut) && shellOut.includes('done'));
      assert.match(pyOut, /error py-after SQLITE_READONLY_DBMOVED attempt to write a readonly database/);
      assert.match(shellErr, /attempt to write a readonly database/);
    } finally {
      py.stdin!.end();
      shell.stdin!.end();
    }
    // Neither wrote into the replaced file unseen: the new file has the rows from before, and takes new writes.
    assert.equal(rows(db), ['py-before', 'shell-before']);
    assert.is(sqlite3(db, "INSERT INTO writes VALUES ('fresh'); PRAGMA integrity_check;").stdout, 'ok\n');
  },
);

withProject(
  'WAL mode: with another program holding the file open glance-db waits, exits 8 and changes nothing; once it is closed, the upgrade leaves no -wal or -shm',
  async (dir, db) => {
    assert.is(cli(['sync', '44'], { cwd: dir }).code, 0);
    assert.is(sqlite3(db, 'CREATE TABLE writes (who TEXT PRIMARY KEY);').status, 0);
    const holder = await holdWith(db, 'wal');
    // The WAL connection checkpoints nothing yet: fold its commit into the file so that only the open connection stands in the way.
    assert.is(sqlite3(db, 'PRAGMA wal_checkpoint(TRUNCATE);').status, 0);
    const before = sha(db);
    try {
      const r = cli(['sync', '--accept-drift', '--lock-wait', '1'], { cwd: dir });
      assert.is(r.code, 8, r.stderr);
      assert.match(r.stderr, `${db} is in WAL mode and another program has it open`);
      noStack(r);
      assert.is(sha(db), before);
    } finally {
      await finish(holder);
    }
    assert.not.ok(existsSync(`${db}-wal`), 'the last connection removed its log');
    const r = cli(['sync', '--accept-drift'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.equal(
      readdirSync(dir).filter((f) => f.startsWith('glance.sqlite')),
      ['glance.sqlite'],
    );
    assert.is(
      sqlite3(db, 'PRAGMA journal_mode; PRAGMA integrity_check; SELECT who FROM writes;').stdout,
      'delete\nok\nwal-committed\n',
    );
  },
);

// Python inserting a row every few milliseconds, without waiting (timeout 0), from a first line on
// its stdin until its stdin closes.
const PY_LOOP = `
import sqlite3, sys, threading, time
print('ready', flush=True)
sys.stdin.readline()
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
i = 0
while not stop.is_set():
    i += 1
    who = '%s-%d' % (sys.argv[2], i)
    try:
        c = sqlite3.connect(sys.argv[1], timeout=0)
        c.execute('INSERT INTO writes VALUES (?)', (who,)); c.commit()
        print('ok', who, flush=True)
        c.close()
    except sqlite3.Error as e:
        print('error', who, e, flush=True)
    time.sleep(0.005)
`;

withProject(
  'WAL mode: a writer that opened the file before the rename and reaches it after gets an error, and writes no log beside the new file',
  async (dir, db) => {
    bigAt44(dir, db);
    assert.is(sqlite3(db, 'PRAGMA journal_mode=WAL;').stdout, 'wal\n');
    const go = await writer('python', db, 'late', 30);
    let finished = false;
    const run = cliAsync(['sync', '--accept-drift'], { cwd: dir }).then((r) => {
      finished = true;
      return r;
    });
    // Connects while glance-db holds the file, long before the rename: its first statement waits
    // (busy timeout) for the lock on the old file. glance-db's own connection makes FILE-wal once it
    // holds SQLite's exclusive lock.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(`${db}-wal`) || finished) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    assert.not.ok(finished, 'the run was not seen');
    const said = go();
    const r = await run;
    assert.is(r.code, 0, r.stderr);
    const result = await said;
    assert.match(result, /readonly database|SQLITE_READONLY_DBMOVED/, result);
    assert.not.ok(existsSync(`${db}-wal`), 'no log beside the new file');
    assert.is(
      sqlite3(db, 'PRAGMA journal_mode; PRAGMA integrity_check; SELECT count(*) FROM writes;').stdout,
      'delete\nok\n0\n',
    );
  },
);

withProject(
  '--backup copies the file through the lock: writers stay held off after the copy, and the run ends 0',
  async (dir, db) => {
    bigAt44(dir, db);
    const loop = spawn('python3', ['-c', PY_LOOP, db, 'during'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    loop.stdout!.on('data', (d) => (out += d));
    while (!out.startsWith('ready\n')) await new Promise((r) => setTimeout(r, 2));
    let finished = false;
    const run = cliAsync(['sync', '--accept-drift', '--backup'], { cwd: dir }).then((r) => {
      finished = true;
      return r;
    });
    // Once the copy has begun, glance-db has read the file under SQLite's lock; the copy then closes
    // what it read through, and closing any descriptor of a file drops the process's POSIX locks on it.
    const backups = join(dir, 'glance-db-backups');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if ((existsSync(backups) && readdirSync(backups).length > 0) || finished) {
          clearInterval(poll);
          resolve();
        }
      }, 1);
    });
    assert.not.ok(finished, 'the backup was not seen');
    loop.stdin!.write('go\n');
    const r = await run;
    await new Promise((resolve) => {
      loop.once('close', resolve);
      loop.stdin!.end();
    });
    assert.is(r.code, 0, r.stderr);
    assert.match(out, /error during-\d+ database is locked/, `the writer was never held off:\n${out.slice(0, 2000)}`);
    const committed = [...out.matchAll(/^ok (\S+)$/gm)].map((m) => m[1]);
    assert.equal(
      committed.filter((w) => !rows(db).includes(w)),
      [],
      'committed, then lost',
    );
  },
);

test('a new database takes its name only if no file has it yet', async () => {
  const { moveIntoPlace, NameTakenError, writeTempFile } = await import('../src/platform/atomic-write.js');
  const dir = makeProject();
  try {
    const path = join(dir, 'new.sqlite');
    const tmp = writeTempFile(path, Buffer.from('glance-db'));
    writeFileSync(path, 'created meanwhile by another program');
    assert.throws(
      () => moveIntoPlace(tmp, path, 9, { noReplace: true }),
      (err: unknown) => err instanceof NameTakenError,
    );
    assert.is(readFileSync(path, 'utf8'), 'created meanwhile by another program');
    assert.not.ok(existsSync(tmp), 'temporary file removed');
    const again = writeTempFile(join(dir, 'free.sqlite'), Buffer.from('glance-db'));
    moveIntoPlace(again, join(dir, 'free.sqlite'), 9, { noReplace: true });
    assert.equal([readFileSync(join(dir, 'free.sqlite'), 'utf8'), existsSync(again)], ['glance-db', false]);
  } finally {
    removeProject(dir);
  }
});

test.run();
