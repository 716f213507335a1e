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
//   npm run build && node scripts/sqlite-file-trials.mjs [disk-full] [signals] [attack] [--trials 30] [--seed 1]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'run.js');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : def);
const trials = opt('trials', 30);
let seed = opt('seed', 1) >>> 0;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const which = args.filter((a) => ['disk-full', 'signals', 'attack'].includes(a));
const run = which.length ? which : ['disk-full', 'signals', 'attack'];

const cli = (cliArgs, cwd) => spawnSync(process.execPath, [bin, ...cliArgs, '--config', join(root, 'glance-db.yaml')], { cwd, encoding: 'utf8' });
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
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]).status !== 0) throw new Error('cannot mount a tmpfs (run as root)');
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
      const at = existsSync(db) ? sqlite3(db, 'PRAGMA integrity_check; SELECT coalesce(max(version), 0) FROM glance_db_version;') : 'ok\nnone';
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
  console.log(`disk-full: ${trials} trials, exit codes ${JSON.stringify(codes)}, stopped at versions ${[...reached].sort().join(' ')}`);
}

async function signals() {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-trial-'));
  const db = join(dir, 'glance.sqlite');
  let interrupted = 0;
  let left = 0;
  try {
    if (cli(['sync', '44', '--url', `sqlite:${db}`], dir).status !== 0) throw new Error('sync 44');
    sqlite3(db, 'CREATE TABLE ballast (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000) INSERT INTO ballast SELECT randomblob(1000) FROM n;');
    const base = readFileSync(db);
    // How long an uninterrupted sync takes, to spread the signals over it.
    const t = Date.now();
    cli(['sync', '--url', `sqlite:${db}`], dir);
    const whole = Date.now() - t;
    for (let i = 0; i < trials; i++) {
      writeFileSync(db, base);
      const sig = i % 2 ? 'SIGTERM' : 'SIGINT';
      const child = spawn(process.execPath, [bin, 'sync', '--url', `sqlite:${db}`, '--config', join(root, 'glance-db.yaml')], { cwd: dir, stdio: 'ignore' });
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
  console.log(`signals: ${trials} trials, ${interrupted} stopped by the signal (the others had finished), temporary files left in ${left}`);
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

if (run.includes('disk-full')) diskFull();
if (run.includes('signals')) await signals();
if (run.includes('attack')) attack();
console.log(failures ? `${failures} failure(s)` : 'all trials passed');
process.exit(failures ? 1 : 0);
