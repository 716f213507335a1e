#!/usr/bin/env node
// SQLite file trials (issue 16), run as root on Linux:
//   disk-full  a tmpfs filled so that the disk runs out at each write-back in
//              turn: every run ends 0 or 17, the file passes integrity_check
//              at its last written version, no temporary file is left, and
//              the run after room is made finishes;
//   signals    SIGINT/SIGTERM at random moments of a sync of a populated
//              file: no temporary file or lock left, integrity_check passes,
//              the next sync finishes;
//   attack     a "compromised glance user" plants links to a victim file at
//              every temporary name glance-db used to use (.NAME.PID.tmp for
//              every PID up to pid_max) while root runs sync: the victim is
//              never written.
// and (issue 32) run as any user:
//   concurrent-writers
//              real writers, Python's sqlite3 (as glance-api) and the sqlite3
//              shell, insert rows and read them back at seeded random timings
//              while glance-db runs sync, migrate, purge or metadefs load on a
//              populated file (a sixth of the trials in WAL mode): every row a
//              writer committed and read back is in the final file (lost: 0),
//              and so is every row whose commit returned success (silent: 0);
//              the file passes integrity_check; glance-db ends 0, or 8 / 21
//              when a writer keeps it out (counted).
//   npm run build && node scripts/sqlite-file-trials.mjs [disk-full] [signals] [attack] [concurrent-writers] [--trials 30] [--seed 1]
//   (no name: the first three)
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : def);
const trials = opt('trials', 30);
let seed = opt('seed', 1) >>> 0;
const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
const which = args.filter((a) => ['disk-full', 'signals', 'attack', 'concurrent-writers'].includes(a));
const run = which.length ? which : ['disk-full', 'signals', 'attack'];

// Never the machine's Glance configuration or installed Glance (as the tests' cleanEnv()).
const env = { ...process.env, GLANCE_DB_GLANCE_CONFIG_DIRS: '', GLANCE_DB_GLANCE_SITE_PACKAGES: '' };
delete env.GLANCE_DB_URL;
const cli = (cliArgs, cwd) =>
  spawnSync(process.execPath, [bin, ...cliArgs, '--config', join(root, 'glance-db.yaml')], {
    cwd,
    encoding: 'utf8',
    env,
  });
const sqlite3 = (db, sql) => spawnSync('sqlite3', [db, sql], { encoding: 'utf8' }).stdout.trim();
const temps = (dir) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
let failures = 0;
const fail = (what) => {
  failures += 1;
  console.log(`  FAIL ${what}`);
};

function diskFull() {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-trial-'));
  const mnt = join(dir, 'vol');
  mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status !== 0)
    throw new Error('cannot mount a tmpfs (run as root)');
  const db = join(mnt, 'glance.sqlite');
  const codes = {};
  const reached = new Set();
  try {
    // The size of the file after each write of a fresh sync: the disk must run out at each of them.
    const probe = cli(['sync', '--url', `sqlite:${join(dir, 'probe.sqlite')}`], dir);
    if (probe.status !== 0) throw new Error(probe.stderr);
    const full = statSync(join(dir, 'probe.sqlite')).size;
    const free0 = Number(spawnSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).stdout.split('\n')[1]);
    for (let i = 0; i < trials; i++) {
      rmSync(db, { force: true });
      // Free space from "not even the first write" to "everything fits", spread over the trials.
      const free = Math.round(1024 * 1024 + (2.2 * full * (i + rnd())) / trials);
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(Math.max(0, free0 - free)));
      const r = cli(['sync', '--url', `sqlite:${db}`], dir);
      codes[r.status] = (codes[r.status] ?? 0) + 1;
      if (r.status !== 0 && r.status !== 17) fail(`free ${free}: exit ${r.status}: ${r.stderr}`);
      if (temps(mnt).length) fail(`free ${free}: temporary file left: ${temps(mnt)}`);
      const at = existsSync(db)
        ? sqlite3(db, 'PRAGMA integrity_check; SELECT coalesce(max(version), 0) FROM glance_db_version;')
        : 'ok\nnone';
      if (!at.startsWith('ok')) fail(`free ${free}: integrity_check: ${at}`);
      reached.add(at.split('\n')[1] ?? 'empty');
      rmSync(join(mnt, 'filler'));
      const again = cli(['sync', '--url', `sqlite:${db}`], dir);
      if (again.status !== 0) fail(`free ${free}: rerun with room: exit ${again.status} ${again.stderr}`);
    }
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `disk-full: ${trials} trials, exit codes ${JSON.stringify(codes)}, stopped at versions ${[...reached].sort().join(' ')}`,
  );
}

async function signals() {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-trial-'));
  const db = join(dir, 'glance.sqlite');
  let interrupted = 0;
  let left = 0;
  try {
    if (cli(['sync', '44', '--url', `sqlite:${db}`], dir).status !== 0) throw new Error('sync 44');
    sqlite3(
      db,
      'CREATE TABLE ballast (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) INSERT INTO ballast SELECT randomblob(1000) FROM n;',
    );
    const base = readFileSync(db);
    // How long an uninterrupted sync takes, to spread the signals over it.
    const t = Date.now();
    cli(['sync', '--url', `sqlite:${db}`], dir);
    const whole = Date.now() - t;
    for (let i = 0; i < trials; i++) {
      writeFileSync(db, base);
      const sig = i % 2 ? 'SIGTERM' : 'SIGINT';
      const child = spawn(
        process.execPath,
        [bin, 'sync', '--url', `sqlite:${db}`, '--config', join(root, 'glance-db.yaml')],
        { cwd: dir, stdio: 'ignore' },
      );
      const exited = new Promise((r) => child.once('exit', (c, s) => r([c, s])));
      await new Promise((r) => setTimeout(r, rnd() * whole));
      child.kill(sig);
      const [code, signal] = await exited;
      if (signal) interrupted += 1;
      if (temps(dir).length) {
        left += 1;
        fail(`${sig}: temporary file left`);
      }
      if (existsSync(`${db}.lock`)) fail(`${sig}: lock file left`);
      const ok = sqlite3(db, 'PRAGMA integrity_check;');
      if (ok !== 'ok') fail(`${sig}: integrity_check ${ok}`);
      if (!signal && code !== 0) fail(`${sig}: exit ${code}`);
    }
    const r = cli(['sync', '--url', `sqlite:${db}`], dir);
    if (r.status !== 0) fail(`final sync: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `signals: ${trials} trials, ${interrupted} stopped by the signal (the others had finished), temporary files left in ${left}`,
  );
}

function attack() {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-trial-'));
  const db = join(dir, 'glance.sqlite');
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious');
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const planted = Math.min(pidMax, 65536);
  let written = 0;
  try {
    for (let i = 0; i < trials; i++) {
      rmSync(db, { force: true });
      // Every name the previous glance-db could have used for PIDs up to 65536.
      for (let pid = 1; pid <= planted; pid++) {
        try {
          symlinkSync(victim, join(dir, `.glance.sqlite.${pid}.tmp`));
        } catch {
          // Still there from the previous trial.
        }
      }
      const r = cli(['sync', '--url', `sqlite:${db}`], dir);
      if (r.status !== 0) fail(`sync: exit ${r.status} ${r.stderr}`);
      if (readFileSync(victim, 'utf8') !== 'precious') {
        written += 1;
        fail('victim written');
        writeFileSync(victim, 'precious');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`attack: ${trials} syncs with ${planted} planted links each, victim written ${written} times`);
}

// A writer as glance-api writes, Python's sqlite3: INSERT, commit, read back,
// again and again until its stdin closes. It prints "commit WHO" when commit()
// returned, "ok WHO" when it then read the row back, "error WHO NAME message".
// pool: one connection kept across the run (glance-api's pool), replaced after
// an error now and then; fresh: a new connection for each row.
const PY_WRITER = `
import random, sqlite3, sys, threading, time
db, tag, mode, timeout, gap, start, image, seed = sys.argv[1:9]
timeout, gap, start = float(timeout), float(gap), float(start)
random.seed(int(seed))
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
time.sleep(start)
c, i = None, 0
while not stop.is_set():
    i += 1
    who = '%s-%d' % (tag, i)
    try:
        if c is None:
            c = sqlite3.connect(db, timeout=timeout)
        c.execute("INSERT INTO image_tags (image_id, value, created_at, deleted) VALUES (?, ?, '2024-01-01 00:00:00', 0)", (image, who))
        c.commit()
        print('commit', who, flush=True)
        n = c.execute('SELECT count(*) FROM image_tags WHERE value = ?', (who,)).fetchone()[0]
        if n == 1:
            print('ok', who, flush=True)
    except sqlite3.Error as e:
        print('error', who, getattr(e, 'sqlite_errorname', '?'), str(e).replace('\\n', ' '), flush=True)
        try:
            c.rollback()
        except Exception:
            pass
        if random.random() < 0.3:
            c.close()
            c = None
    if mode == 'fresh' and c is not None:
        c.close()
        c = None
    time.sleep(random.random() * gap)
`;

const FIRST_IMAGE = '00000000-0000-4000-8000-000000000001';
const insertSql = (who) =>
  `INSERT INTO image_tags (image_id, value, created_at, deleted) VALUES ('${FIRST_IMAGE}', '${who}', '2024-01-01 00:00:00', 0); SELECT 'ok ' || value FROM image_tags WHERE value = '${who}';`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The sqlite3 shell as a writer until stop() resolves: session, one
 * interactive shell fed a row at a time (the row is "ok" when its SELECT
 * shows it: the INSERT committed, autocommit); fresh, one sqlite3 run per
 * row. Returns its lines in the Python writer's words.
 */
async function shellWriter(db, tag, mode, timeoutMs, gapMs, startMs, stopped, seedOf) {
  // Its own generator: the trial's draws do not depend on how many rows it got to write.
  let own = seedOf >>> 0;
  const rnd = () => (own = (Math.imul(own, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const lines = [];
  await sleep(startMs);
  if (mode === 'session') {
    const sh = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    sh.stdout.on('data', (d) => (out += d));
    sh.stderr.on('data', (d) => (err += d));
    const closed = new Promise((r) => sh.once('close', r));
    sh.stdin.write(`.timeout ${timeoutMs}\n`);
    let i = 0;
    while (!stopped()) {
      i += 1;
      sh.stdin.write(`${insertSql(`${tag}-${i}`)}\n`);
      await sleep(rnd() * gapMs);
    }
    sh.stdin.end();
    await closed;
    for (const m of out.matchAll(/^ok (\S+)$/gm)) lines.push(`commit ${m[1]}`, `ok ${m[1]}`);
    for (const m of err.split('\n').filter(Boolean)) lines.push(`error ${tag}-? shell ${m}`);
    return lines;
  }
  let i = 0;
  while (!stopped()) {
    i += 1;
    const who = `${tag}-${i}`;
    const child = spawn('sqlite3', ['-cmd', `.timeout ${timeoutMs}`, db, insertSql(who)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await new Promise((r) => child.once('close', r));
    if (out.trim() === `ok ${who}`) lines.push(`commit ${who}`, `ok ${who}`);
    if (err.trim()) lines.push(`error ${who} shell ${err.trim()}`);
    await sleep(rnd() * gapMs);
  }
  return lines;
}

/** A populated v44 database (bench/populate.mjs), with rows purge will delete. */
function populated(dir, name, images) {
  const db = join(dir, name);
  const r = cli(['sync', '44', '--url', `sqlite:${db}`], dir);
  if (r.status !== 0) throw new Error(r.stderr);
  const sql = spawnSync(process.execPath, [join(root, 'bench', 'populate.mjs'), 'sqlite', String(images), '1'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  }).stdout;
  const p = spawnSync('sqlite3', [db], {
    input: `${sql}
UPDATE images SET deleted_at = '2020-01-02 00:00:00' WHERE deleted = 1;
UPDATE image_members SET deleted_at = '2020-01-02 00:00:00' WHERE deleted = 1;
UPDATE image_tags SET deleted = 1, deleted_at = '2020-01-02 00:00:00' WHERE id % 3 = 0;
UPDATE image_properties SET deleted = 1, deleted_at = '2020-01-02 00:00:00' WHERE id % 4 = 0;
`,
    encoding: 'utf8',
  });
  if (p.status !== 0) throw new Error(p.stderr);
  return db;
}

async function concurrentWriters() {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-trial-'));
  const images = opt('images', 3000);
  const metadefs = join(root, 'test', 'fixtures', 'metadefs');
  const totals = {
    trials: 0,
    committed: 0,
    readBack: 0,
    lost: 0,
    silent: 0,
    locked: 0,
    moved: 0,
    otherErrors: 0,
    despite: 0,
    integrity: 0,
  };
  const exits = {};
  const others = new Map();
  const byCommand = {};
  try {
    // The files each command starts from: 44 (sync), 44 expanded (migrate), 51 (purge, metadefs load).
    const at44 = populated(dir, 'base44.sqlite', images);
    const expanded = join(dir, 'expanded.sqlite');
    writeFileSync(expanded, readFileSync(at44));
    if (cli(['expand', '--url', `sqlite:${expanded}`], dir).status !== 0) throw new Error('expand');
    const at51 = join(dir, 'base51.sqlite');
    writeFileSync(at51, readFileSync(at44));
    if (cli(['sync', '--url', `sqlite:${at51}`], dir).status !== 0) throw new Error('sync');
    const commands = [
      ['sync', at44, ['sync']],
      ['migrate', expanded, ['migrate']],
      ['purge', at51, ['purge', '--age-in-days', '1', '--batch-size', '200']],
      ['metadefs load', at51, ['metadefs', 'load', metadefs]],
    ];
    const db = join(dir, 'glance.sqlite');
    for (let t = 0; t < trials; t++) {
      const [name, base, cmd] = commands[Math.floor(rnd() * commands.length)];
      const wal = rnd() < 1 / 6;
      for (const f of readdirSync(dir)) if (f.startsWith('glance.sqlite')) rmSync(join(dir, f), { force: true });
      writeFileSync(db, readFileSync(base));
      if (wal && sqlite3(db, 'PRAGMA journal_mode=WAL;') !== 'wal') throw new Error('WAL');
      // The writers' parameters, and when glance-db starts among them.
      const py = {
        mode: rnd() < 0.5 ? 'pool' : 'fresh',
        timeout: (rnd() < 0.3 ? 0 : rnd() * 0.5).toFixed(3),
        gap: (rnd() * 0.03).toFixed(3),
        start: (rnd() * 0.3).toFixed(3),
      };
      const sh = {
        mode: rnd() < 0.5 ? 'session' : 'fresh',
        timeout: Math.floor(rnd() < 0.3 ? 0 : rnd() * 500),
        gap: Math.floor(rnd() * 30),
        start: Math.floor(rnd() * 300),
      };
      const glanceAt = Math.floor(rnd() * 400);
      const tail = Math.floor(rnd() * 300);
      let done = false;
      const pyChild = spawn(
        'python3',
        [
          '-c',
          PY_WRITER,
          db,
          `py${t}`,
          py.mode,
          py.timeout,
          py.gap,
          py.start,
          FIRST_IMAGE,
          String(Math.floor(rnd() * 1e9)),
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let pyOut = '';
      pyChild.stdout.on('data', (d) => (pyOut += d));
      const pyClosed = new Promise((r) => pyChild.once('close', r));
      const shLines = shellWriter(
        db,
        `sh${t}`,
        sh.mode,
        sh.timeout,
        sh.gap,
        sh.start,
        () => done,
        Math.floor(rnd() * 2 ** 32),
      );
      await sleep(glanceAt);
      const g = spawn(
        process.execPath,
        [
          bin,
          ...cmd,
          '--url',
          `sqlite:${db}`,
          '--config',
          join(root, 'glance-db.yaml'),
          '--lock-wait',
          wal ? '3' : '20',
        ],
        { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let gErr = '';
      g.stderr.on('data', (d) => (gErr += d));
      const code = await new Promise((r) => g.once('close', (c, s) => r(c ?? s)));
      await sleep(tail);
      done = true;
      pyChild.stdin.end();
      await pyClosed;
      const lines = [...pyOut.split('\n').filter(Boolean), ...(await shLines)];
      // Every row the writers believe committed must be in the file (a WAL with frames is read by sqlite3 as SQLite reads it).
      const present = new Set(
        sqlite3(db, "SELECT value FROM image_tags WHERE value LIKE 'py%' OR value LIKE 'sh%';").split('\n'),
      );
      const check = sqlite3(db, 'PRAGMA integrity_check;');
      const count = (kind) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => l.split(' ')[1]);
      const committed = count('commit');
      const readBack = count('ok');
      const lost = readBack.filter((w) => !present.has(w));
      const silent = committed.filter((w) => !present.has(w));
      const errors = lines.filter((l) => l.startsWith('error '));
      const locked = errors.filter((l) => /database is locked|SQLITE_BUSY/.test(l)).length;
      const moved = errors.filter((l) => /readonly database|DBMOVED/.test(l)).length;
      const other = errors.filter((l) => !/database is locked|SQLITE_BUSY|readonly database|DBMOVED/.test(l));
      // An error, yet the row is there (a stale connection removed the journal of a commit that went through).
      const despite = errors.map((l) => l.split(' ')[1]).filter((w) => present.has(w)).length;
      for (const l of other) {
        const key = l.replace(/^error \S+ /, '').replace(/\d+/g, 'N');
        others.set(key, (others.get(key) ?? 0) + 1);
      }
      totals.trials += 1;
      totals.committed += committed.length;
      totals.readBack += readBack.length;
      totals.lost += lost.length;
      totals.silent += silent.length;
      totals.locked += locked;
      totals.moved += moved;
      totals.otherErrors += other.length;
      totals.despite += despite;
      const key = `${name}${wal ? ' (WAL)' : ''}`;
      byCommand[key] = byCommand[key] ?? { trials: 0, exits: {} };
      byCommand[key].trials += 1;
      byCommand[key].exits[code] = (byCommand[key].exits[code] ?? 0) + 1;
      exits[code] = (exits[code] ?? 0) + 1;
      const label = `trial ${t} (${key}, python ${py.mode} timeout ${py.timeout}s, shell ${sh.mode} timeout ${sh.timeout}ms, glance-db at ${glanceAt}ms)`;
      const raw = (ids) => JSON.stringify(lines.filter((l) => ids.includes(l.split(' ')[1])).slice(0, 6));
      if (lost.length) fail(`${label}: ${lost.length} row(s) committed and read back, then lost: ${raw(lost)}`);
      if (silent.length > lost.length)
        fail(
          `${label}: ${silent.length - lost.length} commit(s) reported as done, not in the file: ${raw(silent.filter((w) => !lost.includes(w)))}`,
        );
      if (check !== 'ok') {
        totals.integrity += 1;
        fail(`${label}: integrity_check: ${check}`);
      }
      if (!(code === 0 || code === 8 || (wal && code === 21)))
        fail(`${label}: glance-db exit ${code}: ${gErr.trim().split('\n').slice(-2).join(' ')}`);
      if (process.env.TRIAL_VERBOSE)
        console.log(
          `${label}: exit ${code}, committed ${committed.length}, locked ${locked}, moved ${moved}, other ${other.length}`,
        );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `concurrent-writers: ${totals.trials} trials (seed ${opt('seed', 1)}, ${images} images), glance-db exit codes ${JSON.stringify(exits)}`,
  );
  for (const [k, v] of Object.entries(byCommand).sort())
    console.log(`  ${k}: ${v.trials} trials, exit codes ${JSON.stringify(v.exits)}`);
  console.log(
    `  writers: ${totals.committed} commits reported, ${totals.readBack} read back; ${totals.locked} refused "database is locked", ${totals.moved} refused "attempt to write a readonly database" (file replaced), ${totals.otherErrors} other errors`,
  );
  // "disk I/O error" and "unable to open database file": a connection still on the replaced file took
  // the journal of a commit into the new file for a hot one and removed it (docs/dialects/sqlite.md: restart glance-api).
  for (const [k, v] of others) console.log(`    other: ${v} x ${k}`);
  console.log(`  rows in the file although their writer saw an error: ${totals.despite}`);
  console.log(
    `  lost (committed and read back, not in the final file): ${totals.lost}; silent (commit returned, not in the file): ${totals.silent}; integrity_check failures: ${totals.integrity}`,
  );
}

if (run.includes('disk-full')) diskFull();
if (run.includes('signals')) await signals();
if (run.includes('attack')) attack();
if (run.includes('concurrent-writers')) await concurrentWriters();
console.log(failures ? `${failures} failure(s)` : 'all trials passed');
process.exit(failures ? 1 : 0);
