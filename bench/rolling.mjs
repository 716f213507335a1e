#!/usr/bin/env node
// npm run bench, rolling-upgrade case (issue 19): a Glance-like workload from
// an old (is_public) and a new (visibility) client at a fixed rate against a
// version-44 database of --images images, while it is upgraded to the newest
// version (a) by `sync` (stop-the-world) and (b) by `expand`, `migrate`,
// `contract`; per server (PostgreSQL, MariaDB, and a Galera node when
// GLANCE_DB_TEST_GALERA_URLS is set). Records failed operations, latency per
// operation, the longest stall and latency over time; checks the data and
// the schema afterwards; writes bench/out/rolling.json, docs/rolling.svg and
// its section of docs/performance.md. When this build has no expand/migrate/
// contract, the rolling path is reported as skipped, never estimated.
//   node bench/rolling.mjs [--images 1000000] [--dialects postgresql,mysql] [--paths sync,rolling]
//     [--rate 50] [--pool 10] [--warm 5] [--tail 5] [--op-timeout 60] [--seed 1] [--no-docs] [--out docs/performance.md]
//     [--merge]        keep the other servers' results of the last run (rerun one server alone)
//     [--report-only]  rewrite docs/rolling.svg and the section from bench/out/rolling.json, run nothing
// Databases are named gdb_rollbench_* and dropped at the end, also on failure or Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, ROOT, database, glanceDb, timed, versions, workDir } from './lib.mjs';
import { populateSql } from './populate.mjs';
import { rollingChart } from './rolling-chart.mjs';
import { baseIndex, BASE_PREFIX, Ledger } from './rolling-model.mjs';
import { rollingSection, spliceSection } from './rolling-report.mjs';
import { goalMet, stall, summarizeByOp, timeSeries } from './rolling-stats.mjs';
import { Client, openPool } from './rolling-workload.mjs';

const args = process.argv.slice(2);
// Unknown flags are ignored: npm run bench -- ... hands the same flags to every bench script.
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const cfg = {
  images: Number(opt('--images', 1_000_000)),
  seed: Number(opt('--seed', 1)),
  rate: Number(opt('--rate', 50)),
  // oslo.db's max_pool_size is 5 per glance-api worker: two workers' worth.
  poolSize: Number(opt('--pool', 10)),
  warmS: Number(opt('--warm', 5)),
  tailS: Number(opt('--tail', 5)),
  opTimeoutS: Number(opt('--op-timeout', 60)),
};
const dialects = opt('--dialects', 'postgresql,mysql')
  .split(',')
  .filter((d) => d !== 'sqlite');
const paths = opt('--paths', 'sync,rolling').split(',');
const dir = workDir();
const log = (s) => process.stderr.write(`${s}\n`);
const ROLLING = ['expand', 'migrate', 'contract'];
const LATEST = Math.max(
  ...[...readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8').matchAll(/^ {2}- version: (\d+)/gm)].map((m) =>
    Number(m[1]),
  ),
);

for (const [k, v] of Object.entries(cfg)) {
  if (!Number.isFinite(v) || v < 0 || (v === 0 && k !== 'warmS' && k !== 'tailS')) {
    log(
      `error: --${k.replace(/S$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive number, not ${v}`,
    );
    process.exit(2);
  }
}

/** Whether this build has the rolling commands (they arrive with issue 19's engine work). */
const rollingAvailable = ROLLING.every(
  (c) => spawnSync(process.execPath, [BIN, c, '--help'], { stdio: 'ignore' }).status === 0,
);
const SKIPPED = 'expand/migrate/contract not available in this build';

/** The servers to measure: PostgreSQL and MariaDB from test/servers.ts, plus Galera node 1 when configured. */
function targets() {
  const t = [];
  if (dialects.includes('postgresql'))
    t.push({ server: 'postgresql', dialect: 'postgresql', db: (n) => database('postgresql', n, dir) });
  if (dialects.includes('mysql')) t.push({ server: 'mysql', dialect: 'mysql', db: (n) => database('mysql', n, dir) });
  const galera = (process.env.GLANCE_DB_TEST_GALERA_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (galera.length)
    t.push({
      server: 'galera',
      dialect: 'mysql',
      db: (n) => galeraDatabase(galera[0], n),
      settle: () => galeraSettle(galera),
    });
  return t;
}

/** lib.mjs's database() for a Galera node given by URL (the mariadb client, password from the environment). */
function galeraDatabase(base, name) {
  const u = new URL(base.replace(/^[a-z+]+:/, 'http:'));
  const conn = [
    '--protocol=tcp',
    '-h',
    u.hostname,
    '-P',
    u.port || '3306',
    '-u',
    decodeURIComponent(u.username) || 'root',
  ];
  const env = { ...process.env, ...(u.password ? { MYSQL_PWD: decodeURIComponent(u.password) } : {}) };
  const mariadb = (db, sql) =>
    timed('mariadb', ['-N', '-B', ...conn, ...(db ? [db] : []), '-e', sql], { env }).stdout.trim();
  return {
    dialect: 'mysql',
    name,
    url: base.replace(/\/[^/?]*(?=\?|$)/, `/${name}`),
    drop() {
      mariadb(null, `DROP DATABASE IF EXISTS ${name}`);
    },
    create() {
      this.drop();
      mariadb(null, `CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    },
    raw: (sqlFile) => ['mariadb', [...conn, name, '-e', `source ${sqlFile}`]],
    rawEnv: env,
    query: (sql) => mariadb(name, sql),
    copyFrom: null,
    size: () =>
      Number(
        mariadb(
          name,
          'SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = DATABASE()',
        ),
      ),
  };
}

/**
 * Waits until every Galera node has applied what it received: populating
 * replicates a writeset per 100,000 images, and while the other nodes apply
 * them flow control pauses node 1, which would be measured as the upgrade's.
 */
async function galeraSettle(urls) {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const queues = urls.map((url) => {
      const db = galeraDatabase(url, 'mysql');
      return Number(db.query("SHOW GLOBAL STATUS LIKE 'wsrep_local_recv_queue'").split('\t')[1]);
    });
    if (queues.every((q) => q === 0) || Date.now() > deadline) return;
    await sleep(1000);
  }
}

// Everything to undo on the way out, whatever the way out is.
const cleanup = new Set();
let stopping = false;
async function cleanUp() {
  for (const f of [...cleanup].reverse()) {
    try {
      await f();
    } catch (err) {
      log(`cleanup: ${err.message.split('\n')[0]}`);
    }
  }
  cleanup.clear();
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping, dropping the gdb_rollbench_* databases`);
    await cleanUp();
    process.exit(130);
  });
}

/** A database at 44 with the populated images; returns how long populating took. */
function populate(db) {
  db.create();
  timed(...glanceDb(['sync', '44'], db));
  const file = join(dir, `rollbench-populate-${db.dialect}-${cfg.images}-${cfg.seed}.sql`);
  writeFileSync(file, populateSql(db.dialect, cfg.images, cfg.seed));
  const ms = timed(...db.raw(file, false), db.rawEnv ? { env: db.rawEnv } : {}).ms;
  // As bench/run.mjs does: fresh statistics, as a database that has lived would have.
  if (db.dialect === 'postgresql') db.query('VACUUM ANALYZE');
  return ms;
}

/** Runs a glance-db command without blocking the workload; resolves with its phase record. */
function phase(name, cmdArgs, db, clock) {
  return new Promise((resolve) => {
    const start = clock();
    const child = spawn(process.execPath, [BIN, ...cmdArgs, '--url', db.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = () => child.kill('SIGTERM');
    cleanup.add(stop);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => {
      cleanup.delete(stop);
      const lines = out.trim().split('\n');
      const error = lines.find((l) => l.startsWith('error:'));
      const r = {
        name,
        start: Math.round(start),
        end: Math.round(clock()),
        exit: code ?? signal,
        ...(error ? { error } : {}),
        out: lines.slice(-12),
      };
      log(
        `    ${name}: exit ${r.exit} after ${Math.round(r.end - r.start)} ms${r.exit !== 0 ? `\n      ${r.out.join('\n      ')}` : ''}`,
      );
      resolve(r);
    });
  });
}

/** One path (sync or rolling) with the workload running throughout. */
async function runPath(path, db, dialect) {
  const ledger = new Ledger(cfg.seed);
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const opts = { ...cfg, ledger, clock };
  const old = new Client('old', dialect, db.url, opts);
  const neu = new Client('new', dialect, db.url, opts);
  const running = new Set();
  const stopClient = async (c) => {
    if (!running.has(c)) return;
    running.delete(c);
    await c.stop();
  };
  const stopAll = async () => {
    for (const c of [...running]) await stopClient(c);
  };
  cleanup.add(stopAll);
  const events = [];
  const startClient = async (c, name) => {
    await c.start();
    running.add(c);
    if (name) events.push({ name, t: Math.round(clock()) });
  };
  const phases = [];
  try {
    await startClient(old);
    await sleep(cfg.warmS * 1000);
    if (path === 'sync') {
      phases.push(await phase('sync', ['sync'], db, clock));
      await stopClient(old);
      events.push({ name: 'old client stopped', t: Math.round(clock()) });
      if (phases[0].exit === 0) await startClient(neu, 'new client starts');
    } else {
      // kolla-ansible's order (docs/guide/rolling-upgrade.md): expand and migrate while every glance-api
      // is still the old release; then the nodes are upgraded one by one (old and new side by side,
      // the triggers keeping is_public and visibility in agreement); contract once no old node is left.
      // A new node before migrate ends would not list the public images whose visibility is still NULL.
      phases.push(await phase('expand', ['expand'], db, clock));
      if (phases.at(-1).exit === 0) phases.push(await phase('migrate', ['migrate'], db, clock));
      if (phases.at(-1).exit === 0) {
        await startClient(neu, 'new client starts');
        await sleep(cfg.warmS * 1000);
      }
      await stopClient(old);
      events.push({ name: 'old client retired', t: Math.round(clock()) });
      if (phases.at(-1).exit === 0) phases.push(await phase('contract', ['contract'], db, clock));
    }
    // A failed upgrade leaves no client running: no tail, which would only be an empty gap.
    if (running.size) await sleep(cfg.tailS * 1000);
  } finally {
    await stopAll();
    cleanup.delete(stopAll);
  }
  const end = clock();
  const records = [...old.records, ...neu.records];
  const run = {
    path,
    durationMs: Math.round(end),
    phases,
    events,
    ops: summarizeByOp(records),
    // The same workload before anything ran: what this machine gives without an upgrade.
    before: summarizeByOp(records.filter((r) => r.e < (phases[0]?.start ?? end))).all,
    stall: stall(records, 0, end),
    series: timeSeries(records, 100),
  };
  run.verify = verify(db);
  run.check = await checkData(dialect, db.url, ledger, old.records.concat(neu.records));
  run.goal = goalMet(run);
  return run;
}

/** glance-db verify: the schema is the newest version's. */
function verify(db) {
  const r = spawnSync(process.execPath, [BIN, 'verify', '--json', '--url', db.url], { encoding: 'utf8' });
  let j = {};
  try {
    j = JSON.parse(r.stdout);
  } catch {}
  const ok = r.status === 0 && j.version === LATEST;
  const why =
    j.error?.message ??
    (j.differences ? `${j.differences.length} difference(s)` : (r.stderr || '').trim().split('\n').at(-1));
  return {
    ok,
    version: j.version ?? null,
    exit: r.status,
    text: ok ? `matches ${LATEST}` : `exit ${r.status}, version ${j.version ?? '?'}${why ? `: ${why}` : ''}`,
  };
}

/**
 * Every image's visibility against Glance's rules: populated images nobody
 * touched by the rule of docs/glance-versions.md (computed in SQL from the
 * populate formula), every image a client wrote against the states the
 * model allows, and no created image lost.
 */
async function checkData(dialect, url, ledger, records) {
  const pool = await openPool(dialect, url, 1, 600);
  try {
    return await pool.withConn(async (c) => {
      const hasVis =
        (
          await c.q(
            dialect === 'postgresql'
              ? "SELECT 1 FROM information_schema.columns WHERE table_name = 'images' AND column_name = 'visibility' AND table_schema = current_schema()"
              : "SELECT 1 FROM information_schema.columns WHERE table_name = 'images' AND column_name = 'visibility' AND table_schema = DATABASE()",
          )
        ).rows.length > 0;
      if (!hasVis)
        return { ok: false, mismatches: 0, touched: 0, ambiguous: 0, examples: ['images.visibility does not exist'] };
      const i = dialect === 'postgresql' ? 'CAST(substr(id, 25) AS bigint)' : 'CAST(SUBSTRING(id, 25) AS UNSIGNED)';
      const v = dialect === 'postgresql' ? 'visibility::text' : 'visibility';
      const wrongBase = (
        await c.q(`SELECT id, v FROM (SELECT id, ${v} AS v, MOD(${i} * 7919 + ${cfg.seed * 104729}, 1000) AS h, MOD(${i}, 5) AS m FROM images WHERE id LIKE '${BASE_PREFIX}%') t
        WHERE v IS NULL OR v <> CASE WHEN h < 300 THEN 'public' WHEN m = 0 AND MOD(h, 7) <> 0 THEN 'shared' ELSE 'private' END`)
      ).rows;
      const examples = [];
      let mismatches = 0;
      const wrong = (s) => {
        mismatches += 1;
        if (examples.length < 5) examples.push(s);
      };
      for (const r of wrongBase) if (!ledger.images.has(r.id)) wrong(`${r.id} (untouched): ${r.v}`);
      const ids = [...ledger.images.keys()];
      let ambiguous = 0;
      for (let k = 0; k < ids.length; k += 500) {
        const chunk = ids.slice(k, k + 500);
        const got = new Map(
          (
            await c.q(`SELECT id, ${v} AS v FROM images WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk)
          ).rows.map((r) => [r.id, r.v]),
        );
        for (const id of chunk) {
          const { allowed, mayBeAbsent } = ledger.expected(id);
          if (allowed.length > 1) ambiguous += 1;
          if (!got.has(id)) {
            if (!mayBeAbsent && baseIndex(id) === null) wrong(`${id} (created): lost`);
            continue;
          }
          if (!allowed.includes(got.get(id))) wrong(`${id}: ${got.get(id)}, expected ${allowed.join(' or ')}`);
        }
      }
      const count = Number((await c.q('SELECT count(*) AS n FROM images')).rows[0].n);
      const created = records.filter((r) => r.op === 'create' && r.ok).length;
      const uncertain = records.filter((r) => r.op === 'create' && !r.ok).length;
      if (count < cfg.images + created || count > cfg.images + created + uncertain)
        wrong(
          `images: ${count} rows, expected ${cfg.images + created}${uncertain ? ` to ${cfg.images + created + uncertain}` : ''}`,
        );
      return { ok: mismatches === 0, mismatches, touched: ids.length, ambiguous, images: count, examples };
    });
  } finally {
    await pool.end();
  }
}

function writeDocs(results) {
  const out = opt('--out', join(ROOT, 'docs', 'performance.md'));
  writeFileSync(join(dirname(out), 'rolling.svg'), rollingChart(results));
  writeFileSync(out, spliceSection(readFileSync(out, 'utf8'), rollingSection(results)));
  log(`wrote ${out} and ${join(dirname(out), 'rolling.svg')}`);
}

async function main() {
  const resultsFile = join(dir, 'rolling.json');
  if (args.includes('--report-only')) return writeDocs(JSON.parse(readFileSync(resultsFile, 'utf8')));
  const previous =
    args.includes('--merge') && existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')).servers : {};
  const results = {
    bench: 'rolling',
    when: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) },
    versions: versions(),
    ...cfg,
    latest: LATEST,
    rollingAvailable,
    servers: { ...previous },
  };
  if (!rollingAvailable) log(`rolling path: skipped: ${SKIPPED}`);
  for (const t of targets()) {
    const s = (results.servers[t.server] = {});
    let base = null;
    // PostgreSQL copies one populated database per path (CREATE DATABASE ... TEMPLATE);
    // MariaDB has no templates, so each path populates its own (seeded: the same data).
    const fresh = (name) => {
      const db = t.db(name);
      cleanup.add(() => db.drop());
      if (t.dialect === 'postgresql') {
        if (!base) {
          base = t.db('gdb_rollbench_base');
          cleanup.add(() => base.drop());
          s.populateMs = Math.round(populate(base));
          s.sizeBytes = base.size();
          log(`  ${t.server}: populated ${cfg.images} images in ${(s.populateMs / 1000).toFixed(1)} s`);
        }
        db.copyFrom(base);
      } else {
        const ms = Math.round(populate(db));
        s.populateMs ??= ms;
        s.sizeBytes ??= db.size();
        log(`  ${t.server}: populated ${cfg.images} images in ${(ms / 1000).toFixed(1)} s`);
      }
      return db;
    };
    for (const path of paths) {
      if (path === 'rolling' && !rollingAvailable) {
        s.rolling = { skipped: SKIPPED };
        continue;
      }
      log(`${t.server}: ${path} (${cfg.images} images, ${cfg.rate} ops/s per client)`);
      const db = fresh(`gdb_rollbench_${path}`);
      await t.settle?.();
      try {
        s[path] = await runPath(path, db, t.dialect);
      } catch (err) {
        s[path] = { skipped: `failed: ${err.message.split('\n')[0]}` };
        log(`  ${t.server} ${path} failed: ${err.stack}`);
      }
      db.drop();
      const r = s[path];
      if (r.ops)
        log(
          `  ${t.server} ${path}: ${r.ops.all.failed} of ${r.ops.all.count} failed, p99 ${r.ops.all.p99} ms, max ${r.ops.all.max} ms, stall ${r.stall.ms} ms; data ${r.check.ok ? 'right' : `WRONG (${r.check.mismatches}: ${r.check.examples[0]})`}; verify ${r.verify.text}`,
        );
    }
    base?.drop();
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`);
  }
  await cleanUp();
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`);
  log(`wrote ${resultsFile}`);
  if (!args.includes('--no-docs')) writeDocs(results);
}

main().catch(async (err) => {
  log(err.stack);
  await cleanUp();
  process.exit(1);
});
