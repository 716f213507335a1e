#!/usr/bin/env node
// npm run bench: glance-db against the physical limit (the database's own
// client running the same SQL) and against glance-manage, per dialect.
// Every comparison is interleaved (A B A B ...), reported as medians and
// ratios, and written to docs/performance.md with a chart.
//   node bench/run.mjs [--dialects sqlite,postgresql,mysql] [--runs 10]
//                      [--images 1000000] [--populated-runs 3] [--seed 1] [--skip populated,executable,glance-manage] [--merge]
//                      [--db-prefix gdb]   (databases are named PREFIX_bench_...; GLANCE_DB_BENCH_DB_PREFIX too)
// The single executable (scripts/sea.mjs) is built into bench/out/sea and measured beside the CLI
// for start-up and fresh sync; dbmate is installed into bench/out/tools.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { populateSql } from './populate.mjs';
import {
  combinedSql,
  database,
  dbmate,
  roundTrips,
  sh,
  dbmateBaselineSql,
  dbmateMigrations,
  ensureDbmate,
  ensureExecutable,
  glanceDb,
  glanceDbExe,
  glanceManage,
  median,
  ROOT,
  timed,
  timedRss,
  versions,
  workDir,
} from './lib.mjs';
import { report } from './report.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const dialects = opt('--dialects', 'sqlite,postgresql,mysql').split(',');
const runs = Number(opt('--runs', 10));
const images = Number(opt('--images', 1_000_000));
const populatedRuns = Number(opt('--populated-runs', 3));
const seed = Number(opt('--seed', 1));
const skip = new Set(opt('--skip', '').split(',').filter(Boolean));
if (opt('--db-prefix')) process.env.GLANCE_DB_BENCH_DB_PREFIX = opt('--db-prefix');
const dir = workDir();
const log = (s) => process.stderr.write(`${s}\n`);
const run = ([cmd, a], o) => timed(cmd, a, o).ms;
const NODE_FLOOR = [process.execPath, ['-e', '0']];

/** Interleaves the cases `n` times (each case's setup untimed) and returns the median ms of each. */
function interleave(n, cases) {
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [k, c] of Object.entries(cases)) {
      if (!c) continue;
      c.setup?.();
      times[k].push(run(c.cmd));
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.length ? median(v) : null]));
}

function startup(dialect) {
  const db = database(dialect, 'gdb_bench_startup', dir);
  db.create();
  run(glanceDb(['sync'], db));
  const gm = database(dialect, 'gdb_bench_gm', dir);
  gm.create();
  const gmVersion = !skip.has('glance-manage') && glanceManage(['db', 'version'], gm, dir);
  if (gmVersion) run(glanceManage(['db', 'sync'], gm, dir));
  const dm = database(dialect, 'gdb_bench_dbmate', dir);
  dm.create();
  const dmStatus = dbmate(['status'], dm, dir);
  if (dmStatus) run(dbmate(['up'], dm, dir));
  const m = interleave(runs, {
    node: { cmd: NODE_FLOOR },
    glanceDb: { cmd: glanceDb(['version'], db) },
    executable: exe && { cmd: glanceDbExe(exe, ['version'], db) },
    glanceManage: gmVersion && { cmd: gmVersion },
    dbmate: dmStatus && { cmd: dmStatus },
  });
  dm.drop();
  db.drop();
  gm.drop();
  return m;
}

function freshSync(dialect) {
  const db = database(dialect, 'gdb_bench_fresh', dir);
  const raw = combinedSql(dialect, 42, 51, dir);
  const m = interleave(runs, {
    node: { cmd: NODE_FLOOR },
    glanceDb: { setup: () => db.create(), cmd: glanceDb(['sync'], db) },
    executable: exe && { setup: () => db.create(), cmd: glanceDbExe(exe, ['sync'], db) },
    raw: { setup: () => db.create(), cmd: db.raw(raw) },
    // glance-manage from Debian 12 (Zed) stops at wallaby_contract01, our version 50.
    glanceDb50: { setup: () => db.create(), cmd: glanceDb(['sync', '50'], db) },
    glanceManage: existsManage() && { setup: () => db.create(), cmd: glanceManage(['db', 'sync'], db, dir) },
    dbmate: dbmate(['up'], db, dir) && { setup: () => db.create(), cmd: dbmate(['up'], db, dir) },
  });
  db.drop();
  return m;
}

/**
 * The deploy's case: every kolla, openstack-ansible, helm and puppet run syncs
 * a database that is already current. Beside it dbmate's `up` with nothing to
 * do, and the least a client can do: read the version table.
 */
function noopSync(dialect) {
  const db = database(dialect, 'gdb_bench_noop', dir);
  db.create();
  run(glanceDb(['sync'], db));
  const dm = database(dialect, 'gdb_bench_noop_dbmate', dir);
  dm.create();
  const dmUp = dbmate(['up'], dm, dir);
  if (dmUp) run(dmUp);
  const rawFile = join(dir, `noop-${dialect}.sql`);
  writeFileSync(rawFile, 'SELECT MAX(version) FROM glance_db_version;\n');
  const m = interleave(runs, {
    node: { cmd: NODE_FLOOR },
    glanceDb: { cmd: glanceDb(['sync'], db) },
    executable: exe && { cmd: glanceDbExe(exe, ['sync'], db) },
    raw: { cmd: db.raw(rawFile, false) },
    dbmate: dmUp && { cmd: dmUp },
  });
  dm.drop();
  db.drop();
  return m;
}

/** Round trips per command, counted by the client (servers only; SQLite has none): the no-op sync, the fresh sync, `version`. */
function roundTripCounts(dialect) {
  if (dialect === 'sqlite') return null;
  const db = database(dialect, 'gdb_bench_trips', dir);
  db.create();
  const fresh = roundTrips(['sync'], db, dir);
  const noop = roundTrips(['sync'], db, dir);
  const version = roundTrips(['version'], db, dir);
  db.drop();
  return { fresh, noop, version };
}

const existsManage = () =>
  !skip.has('glance-manage') && glanceManage(['db', 'version'], database('sqlite', 'probe', dir), dir) !== null;

/** A v44 database with `images` images, built once per dialect. */
function populatedBase(dialect) {
  const base = database(dialect, 'gdb_bench_v44', dir);
  base.create();
  run(glanceDb(['sync', '44'], base));
  const file = join(dir, `populate-${dialect}.sql`);
  writeFileSync(file, populateSql(dialect, images, seed));
  const ms = run(base.raw(file, false));
  log(`  ${dialect}: populated v44 with ${images} images in ${Math.round(ms / 1000)} s`);
  if (dialect === 'postgresql') base.query('VACUUM ANALYZE');
  return { base, file };
}

function populated(dialect) {
  const { base, file } = populatedBase(dialect);
  const work = database(dialect, 'gdb_bench_work', dir);
  const restore = () => {
    // The copy's writes reach the disk before the timed run starts, not during it.
    if (work.copyFrom) return (work.copyFrom(base), sh('sync', []));
    // MariaDB has no template databases: build the same data again (seeded, so identical).
    work.create();
    run(glanceDb(['sync', '44'], work));
    run(work.raw(file, false));
  };
  const raw = combinedSql(dialect, 45, 51, dir);
  const baselineFile = join(dir, `dbmate-baseline-${dialect}.sql`);
  writeFileSync(baselineFile, dbmateBaselineSql(dialect, 44));
  const dmUp = dbmate(['up'], work, dir);
  const g = [];
  const r = [];
  const dm = [];
  const rss = [];
  const visibility = [];
  const size = work.copyFrom ? (restore(), work.size()) : base.size();
  for (let i = 0; i < populatedRuns; i++) {
    restore();
    const [cmd, a] = glanceDb(['sync'], work);
    const t = timedRss(cmd, a);
    g.push(t.ms);
    rss.push(t.rssKiB);
    visibility.push(Number(work.query('SELECT execution_ms FROM glance_db_version WHERE version = 45')));
    restore();
    r.push(run(work.raw(raw)));
    if (dmUp) {
      restore();
      run(work.raw(baselineFile, false));
      dm.push(run(dmUp));
    }
    log(
      `  ${dialect} populated run ${i + 1}: glance-db ${Math.round(t.ms)} ms (peak RSS ${Math.round(t.rssKiB / 1024)} MiB), raw ${Math.round(r.at(-1))} ms${dmUp ? `, dbmate ${Math.round(dm.at(-1))} ms` : ''}`,
    );
  }
  work.drop();
  base.drop();
  const visMs = median(visibility);
  return {
    runs: populatedRuns,
    glanceDb: median(g),
    raw: median(r),
    dbmate: dm.length ? median(dm) : null,
    peakRssKiB: Math.max(...rss),
    sizeBytes: size,
    visibilityMs: visMs,
    visibilityRowsPerS: images / (visMs / 1000),
  };
}

const resultsFile = join(dir, 'results.json');
// --merge keeps the other dialects of the last run (rerun one dialect without the others).
const previous =
  args.includes('--merge') && existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')).dialects : {};
ensureDbmate();
const results = {
  when: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) },
  versions: versions(),
  runs,
  images,
  populatedRuns,
  seed,
  dialects: { ...previous },
};
const exe = skip.has('executable') ? null : ensureExecutable(dir);
for (const d of dialects) {
  dbmateMigrations(d, dir);
  log(`${d}: start-up`);
  const r = { startup: startup(d) };
  log(`${d}: fresh sync`);
  r.fresh = freshSync(d);
  log(`${d}: no-op sync`);
  r.noop = noopSync(d);
  r.roundTrips = roundTripCounts(d);
  if (!skip.has('populated')) {
    log(`${d}: populated upgrade (${images} images)`);
    r.populated = populated(d);
  } else if (previous[d]?.populated) {
    // --merge --skip populated: keep the populated figures measured before.
    r.populated = previous[d].populated;
  }
  results.dialects[d] = r;
  // Saved after every dialect: a failure later loses nothing measured so far.
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(JSON.stringify(r, (k, v) => (k === 'statements' ? undefined : v)));
}
const out = opt('--out', join(ROOT, 'docs', 'performance.md'));
writeFileSync(out, report(results, out));
log(`wrote ${out} and ${join(dir, 'results.json')}`);
