#!/usr/bin/env node
// The test runner: runs the compiled uvu suites (dist/test/**/*.test.js), one
// process per file, several files at a time, and ends with the line CI reads:
// "N passed, M failed" (then ", K skipped" when tests were skipped); the exit
// code is 0 only when nothing failed and something passed. uvu's own summary
// ("Total: / Passed:") is not in that form.
//
//   node test/run.mjs [REGEX] [--tier T,T...] [--jobs N] [--per-server N] [--list] [--record-times]
//
//   REGEX           only the files whose path (dist/test/NAME.test.js) matches
//   --tier T,...    only the files of these tiers (the table below); with REGEX, both must match
//   --jobs N, -j N  files at once (default: the number of cores, os.availableParallelism())
//   --per-server N  files at once that use the same server (default 2), so that
//                   parallel files do not overload PostgreSQL, MariaDB, Galera or PgBouncer
//   --list          print the files that would run, in the order they start, with
//                   tiers, servers, why some run alone and the time expected; run nothing
//   --record-times  write the times of the files that ran into test/times.json (committed),
//                   the order a fresh checkout (CI) starts the files in
//
// Each file's output is kept until the file ends and then printed whole, with
// its name and time, in the order the files finish: parallel files never mix
// their lines. At the end: the files that failed, the ten slowest, the wall
// time and the sum of the files' times.
//
// A file runs only if its source test/NAME.test.ts exists, so that a test
// deleted or renamed in test/ but still compiled in dist/ cannot make a run pass.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const TIER_NAMES = ['unit', 'sqlite', 'postgresql', 'mysql', 'system', 'fast'];

// Each test file's tier and the servers it uses, from its name (NAME in
// test/NAME.test.ts); the first row whose pattern matches decides. A file
// that uses a server is in that server's tier, even when it also tests
// SQLite; a file may be in several tiers. `uses` is what the per-server
// limit counts. `alone`: the file runs with nothing else beside it, and why.
//
//   tier        files
//   unit        pure, in-process: no server, no CLI process but a few smoke runs
//   sqlite      the SQLite suites, the CLI on SQLite files
//   postgresql  the PostgreSQL suites, and the files that run on every dialect
//   mysql       the MariaDB/MySQL suites, and the files that run on every dialect
//   system      Galera clusters, PgBouncer, network faults, containers, air-gap, crash trials
//   fast        (npm run test:fast) every unit file, the SQLite conformance and the CLI smoke files
//
// Why some files run alone: they measure behaviour that depends on time
// and on the machine having room, so another file's load changes the result
// rather than only the speed:
//  - cluster-galera*: certification conflicts, flow control, a node killed
//    mid-run and its rejoin (SST) on three mariadbd processes of this machine;
//  - crash: each kill -9 must land while the upgrade runs, at a delay taken from
//    how long the run took, so a load that comes and goes makes the trial miss;
//  - network: black-holed connections and paused lock holders against
//    --io-timeout and the MySQL lock lease (seconds).
// And two because they change the checkout every other file runs from:
//  - airgap, container: scripts/package.mjs runs `npm run build` (dist/bundle
//    deleted and written again, every dist/ module rewritten), writes
//    package.json without its scripts for `npm pack` and puts it back, and
//    rebuilds dist/sea; a file beside them could load a half-written module.
const ALL = ['postgresql', 'mysql'];
const PACKAGE = 'scripts/package.mjs rebuilds dist/ and rewrites package.json in place';
export const TABLE = [
  {
    name: /^cluster-galera/,
    tiers: ['system'],
    uses: ['galera'],
    alone: 'Galera timing: conflicts, flow control, a node killed and rejoining',
  },
  { name: /^pgbouncer$/, tiers: ['system'], uses: ['pgbouncer', 'postgresql'] },
  { name: /^crash$/, tiers: ['system'], uses: ALL, alone: 'kill -9 trials: each kill must land mid-upgrade' },
  {
    name: /^network$/,
    tiers: ['system'],
    uses: ALL,
    alone: 'black-holed connections and lock leases against second-long timeouts',
  },
  { name: /^container$/, tiers: ['system'], uses: ['postgresql'], alone: PACKAGE },
  { name: /^airgap$/, tiers: ['system'], uses: ALL, alone: PACKAGE },
  { name: /^runtimes$/, tiers: ['system'], uses: [] }, // Node 22 and Node 20 binaries CI installs
  // Its own TLS servers (scripts/tls-servers.sh), and the machine's plain ones as the servers without TLS.
  { name: /^tls$/, tiers: ['system'], uses: ALL },
  {
    name: /^(bad-input|bounds|corpus|driver-contract|habits|readme|round-trips|secrets|rolling-contract|transaction-control)$/,
    tiers: ['postgresql', 'mysql'],
    uses: ALL,
  },
  { name: /^release-glance$/, tiers: ['postgresql', 'mysql'], uses: ALL }, // the real glance-manage beside glance-db on both servers
  { name: /^lint-base$/, tiers: ['mysql'], uses: ['mysql'] },
  { name: /-postgresql$/, tiers: ['postgresql'], uses: ['postgresql'] },
  { name: /-mysql$/, tiers: ['mysql'], uses: ['mysql'] },
  { name: /^conformance-sqlite$/, tiers: ['sqlite', 'fast'], uses: [] },
  { name: /-sqlite$|^(check|lint|sqlite-.+|planted|output-text)$/, tiers: ['sqlite'], uses: [] },
  { name: /^(manifest|glance-config|colon-form)$/, tiers: ['unit', 'fast'], uses: [] }, // with a few CLI smoke runs
  { name: /-unit$|^(unit|dialects-layout|diff|split|versions|fuzz)$/, tiers: ['unit', 'fast'], uses: [] },
];

// A file no row names: assume the worst (both servers), and say so.
const UNKNOWN = { tiers: ['postgresql', 'mysql'], uses: ALL, unknown: true };

/** The tier row of a test file (NAME, or a path ending in NAME.test.js/.ts). */
export function classify(file) {
  const name = basename(file).replace(/\.test\.[jt]s$/, '');
  const row = TABLE.find((r) => r.name.test(name)) ?? UNKNOWN;
  return { name, tiers: row.tiers, uses: row.uses, alone: row.alone ?? null, unknown: row.unknown === true };
}

export class UsageError extends Error {}

function count(flag, value, min) {
  const n = Number(value);
  if (!/^\d+$/.test(String(value ?? '')) || n < min)
    throw new UsageError(`${flag} takes a whole number of at least ${min}, not ${JSON.stringify(value ?? '')}`);
  return n;
}

export function parseArgs(argv) {
  const opts = { filter: null, tiers: null, jobs: availableParallelism(), perServer: 2, list: false, record: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--jobs' || flag === '-j') opts.jobs = count('--jobs', value(), 1);
    else if (flag === '--per-server') opts.perServer = count('--per-server', value(), 1);
    else if (flag === '--tier') {
      const tiers = String(value() ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const bad = tiers.filter((t) => !TIER_NAMES.includes(t));
      if (!tiers.length || bad.length)
        throw new UsageError(
          `--tier takes tiers among ${TIER_NAMES.join(', ')} (comma-separated), not ${JSON.stringify(bad.join(',') || '')}`,
        );
      opts.tiers = tiers;
    } else if (flag === '--list') opts.list = true;
    else if (flag === '--record-times') opts.record = true;
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else if (opts.filter)
      throw new UsageError(`one REGEX only (got ${JSON.stringify(opts.filter.source)} and ${JSON.stringify(a)})`);
    else {
      try {
        opts.filter = new RegExp(a);
      } catch (err) {
        throw new UsageError(`REGEX ${JSON.stringify(a)}: ${err.message}`);
      }
    }
  }
  return opts;
}

/** What one file's run counts for: its tests, and one failure when it exited badly outside any test. */
export function outcome(stdout, status) {
  const total = Number(/Total:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  // The file crashed before or outside its tests: count it as one failure.
  const crashed = status !== 0 && total === passed;
  return { passed, skipped, failed: crashed ? 1 : total - passed, crashed };
}

/** The summary line CI reads, and the exit code. */
export function finalLine({ passed, failed, skipped }) {
  return {
    line: `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
    code: failed === 0 && passed > 0 ? 0 : 1,
  };
}

/**
 * Runs run(entry) for every entry, at most `jobs` at once, at most `perServer`
 * at once per server an entry uses, and an entry marked alone with nothing
 * beside it. Entries start in the given order when they fit; the alone ones
 * after the others. Resolves when all have ended.
 */
export function schedule(entries, { jobs, perServer }, run) {
  const queue = [...entries.filter((e) => !e.alone), ...entries.filter((e) => e.alone)];
  const load = new Map();
  let running = 0;
  let aloneRunning = false;
  const fits = (e) => {
    if (running === 0) return true;
    if (e.alone || aloneRunning || running >= jobs) return false;
    return e.uses.every((s) => (load.get(s) ?? 0) < perServer);
  };
  return new Promise((resolve, reject) => {
    const pump = () => {
      if (!queue.length && running === 0) return resolve();
      for (let i = 0; i < queue.length; i++) {
        const e = queue[i];
        if (!fits(e)) {
          // The alone ones wait for everything before them to end.
          if (e.alone) break;
          continue;
        }
        queue.splice(i--, 1);
        running++;
        if (e.alone) aloneRunning = true;
        for (const s of e.uses) load.set(s, (load.get(s) ?? 0) + 1);
        Promise.resolve()
          .then(() => run(e))
          .then(() => {
            running--;
            if (e.alone) aloneRunning = false;
            for (const s of e.uses) load.set(s, load.get(s) - 1);
            pump();
          }, reject);
      }
    };
    pump();
  });
}

// The time of each file, so that the long files start first and the run does
// not end waiting on one of them (with --jobs 2, a 4-minute file started last
// is 4 minutes of one core idle); it only orders the files. The last local
// run's times (node_modules/.cache, per checkout), else the recorded ones
// (test/times.json, committed, seconds by NAME: what a fresh checkout and CI
// go by; --record-times writes it), else a guess by tier.
const TIMES = join(root, 'node_modules', '.cache', 'glance-db', 'test-times.json');
export const RECORDED = join(root, 'test', 'times.json');
const GUESS = { unit: 5, sqlite: 30, postgresql: 60, mysql: 60, system: 120 };

function readTimes(path = TIMES) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {};
  }
}

/** test/times.json: seconds by test file NAME. */
export const readRecorded = () => readTimes(RECORDED);

function writeRecorded(results) {
  const recorded = readRecorded();
  for (const { e, r } of results) recorded[e.name] = Math.round(r.ms / 100) / 10;
  const sorted = Object.fromEntries(Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(RECORDED, `${JSON.stringify(sorted, null, 2)}\n`);
}

function writeTimes(times) {
  try {
    mkdirSync(dirname(TIMES), { recursive: true });
    writeFileSync(TIMES, `${JSON.stringify(times, null, 1)}\n`);
  } catch {
    // Only an ordering hint: a read-only checkout runs as well without it.
  }
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const secs = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** Runs one file in its own process; its output comes back whole, stdout and stderr in the order written. */
function runFile(file, children) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [file], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const all = [];
    const out = [];
    child.stdout.on('data', (d) => (all.push(d), out.push(d)));
    child.stderr.on('data', (d) => all.push(d));
    child.on('error', (err) => all.push(Buffer.from(`${err.message}\n`)));
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({
        ms: performance.now() - started,
        status: code ?? signal,
        output: Buffer.concat(all).toString('utf8'),
        stdout: Buffer.concat(out).toString('utf8'),
      });
    });
  });
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(
      `error: ${err.message}\nhint: node test/run.mjs [REGEX] [--tier ${TIER_NAMES.join(',')}] [--jobs N] [--per-server N] [--list] [--record-times]`,
    );
    process.exit(2);
  }

  const all = walk(join(root, 'dist', 'test')).sort();
  const known = new Set(all.map((f) => relative(root, f)));
  const times = Object.fromEntries(Object.entries(readTimes()).filter(([rel]) => known.has(rel)));
  const recorded = readRecorded();
  const entries = [];
  for (const file of all) {
    const rel = relative(root, file);
    if (opts.filter && !opts.filter.test(rel)) continue;
    const source = join(root, 'test', relative(join(root, 'dist', 'test'), file)).replace(/\.js$/, '.ts');
    if (!existsSync(source)) {
      console.log(`not run: ${rel} (no ${relative(root, source)}: left over from an older build)`);
      continue;
    }
    const c = classify(file);
    if (opts.tiers && !opts.tiers.some((t) => c.tiers.includes(t))) continue;
    if (c.unknown) console.log(`note: ${rel} is not in test/run.mjs's TABLE: taken as using both servers; add its row`);
    entries.push({ ...c, file, rel, expected: times[rel] ?? recorded[c.name] ?? GUESS[c.tiers[0]] ?? 60 });
  }
  // In the order they start: the long files first (the run ends when the last one does), the alone ones after all others.
  entries.sort(
    (a, b) => Number(!!a.alone) - Number(!!b.alone) || b.expected - a.expected || a.rel.localeCompare(b.rel),
  );

  if (opts.list) {
    for (const e of entries) {
      console.log(
        `${e.rel.padEnd(44)} ${e.tiers.join(',').padEnd(18)} ${(e.uses.join(',') || '-').padEnd(22)} ${`~${Math.round(e.expected)} s`.padStart(7)} ${e.alone ? `alone: ${e.alone}` : ''}`.trimEnd(),
      );
    }
    console.log(`${entries.length} files; --jobs ${opts.jobs}, --per-server ${opts.perServer}`);
    return;
  }

  // The run's cache: starting states one file builds and the others copy (test/glance-manage.ts), dropped at the end.
  const runCache = mkdtempSync(join(tmpdir(), 'glance-db-run-'));
  process.env.GLANCE_DB_TEST_RUN_CACHE = runCache;
  const dropRunCache = () => {
    const script = join(root, 'dist', 'test', 'run-cache.js');
    if (existsSync(script)) spawnSync(process.execPath, [script, runCache], { cwd: root, stdio: 'inherit' });
    rmSync(runCache, { recursive: true, force: true });
  };
  const children = new Set();
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      for (const child of children) child.kill('SIGTERM');
      console.log(`\n${sig}: stopped ${children.size} running file(s)`);
      dropRunCache();
      process.exit(130);
    });
  }

  const started = performance.now();
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const results = [];
  await schedule(entries, opts, async (e) => {
    const r = await runFile(e.file, children);
    const o = outcome(r.stdout, r.status);
    totals.passed += o.passed;
    totals.failed += o.failed;
    totals.skipped += o.skipped;
    results.push({ e, r, o });
    times[e.rel] = Math.round(r.ms) / 1000;
    const verdict = o.crashed
      ? `FAILED: exited with ${r.status} outside any test`
      : o.failed
        ? `FAILED: ${o.failed} failed, ${o.passed} passed`
        : `${o.passed} passed${o.skipped ? `, ${o.skipped} skipped` : ''}`;
    let block = `\n=== ${e.rel} (${secs(r.ms)}) ${verdict}${e.alone ? ' [ran alone]' : ''}\n${r.output}`;
    if (!block.endsWith('\n')) block += '\n';
    if (o.crashed) block += `${e.rel}: exited with ${r.status} outside any test\n`;
    process.stdout.write(block);
  });
  const wall = performance.now() - started;
  dropRunCache();
  writeTimes(times);
  if (opts.record) writeRecorded(results);

  const sum = results.reduce((t, x) => t + x.r.ms, 0);
  console.log('\nslowest files:');
  for (const { e, r } of [...results].sort((a, b) => b.r.ms - a.r.ms).slice(0, 10))
    console.log(`  ${secs(r.ms).padStart(9)}  ${e.rel}`);
  const failedFiles = results.filter((x) => x.o.failed);
  if (failedFiles.length) {
    console.log('\nfailed files:');
    for (const { e, r, o } of failedFiles)
      console.log(`  ${e.rel}: ${o.crashed ? `exited with ${r.status} outside any test` : `${o.failed} failed`}`);
  }
  console.log(
    `\n${results.length} file${results.length === 1 ? '' : 's'} in ${secs(wall)} wall time; the files' own times add up to ${secs(sum)} (--jobs ${opts.jobs}, --per-server ${opts.perServer})`,
  );
  const { line, code } = finalLine(totals);
  console.log(line);
  process.exit(code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
