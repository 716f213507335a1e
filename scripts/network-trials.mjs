#!/usr/bin/env node
// Network and signal trials against the real servers (docs/reliability.md):
// a sync whose version sleeps is cut mid-statement by one fault, then the
// next sync runs. Prints, per dialect and fault, the exit codes seen, the
// seconds from the fault to the exit, and the seconds until the next run
// had finished (it must wait for the server to let go of the lock).
//   npm run build && node scripts/network-trials.mjs [postgresql] [mysql] [--trials N] [--io-timeout S]
// Faults: blackhole (proxy stops forwarding, sockets kept open), reset (TCP
// RST mid-statement), terminate (pg_terminate_backend / KILL CONNECTION),
// sigint and sigterm (sent to glance-db).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startProxy } from '../dist/test/proxy.js';
import { adminSql, createDatabase, dropDatabase, SERVER_URLS } from '../dist/test/servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { trials: { type: 'string', default: '3' }, 'io-timeout': { type: 'string', default: '60' } },
});
const dialects = positionals.length ? positionals : ['postgresql', 'mysql'];
const trials = Number(values.trials);
const io = values['io-timeout'];
const FAULTS = ['blackhole', 'reset', 'terminate', 'sigint', 'sigterm'];
const env = { ...process.env, GLANCE_DB_LOCK_LEASE: process.env.GLANCE_DB_LOCK_LEASE ?? '60' };
delete env.GLANCE_DB_URL;

const project = mkdtempSync(join(tmpdir(), 'glance-db-net-'));
cpSync(join(root, 'sql'), join(project, 'sql'), { recursive: true });
const sleepSql = { postgresql: 'pg_sleep', mysql: 'SLEEP' };
writeFileSync(
  join(project, 'glance-db.yaml'),
  `${readFileSync(join(root, 'glance-db.yaml'), 'utf8')}
  - version: 99
    name: net_trial
    description: Sleeps as long as net_sleep says.
    files:
      sqlite: sql/sqlite/099_net_trial.sql
      postgresql: sql/postgresql/099_net_trial.sql
      mysql: sql/mysql/099_net_trial.sql
`,
);
for (const d of ['sqlite', 'postgresql', 'mysql']) {
  writeFileSync(
    join(project, `sql/${d}/099_net_trial.sql`),
    d === 'sqlite'
      ? 'SELECT 1;\n'
      : `CREATE TABLE net_mark (x INT);\nSELECT ${sleepSql[d]}((SELECT coalesce(max(s), 0) FROM net_sleep));\nINSERT INTO net_mark VALUES (1);\n`,
  );
}

const glanceDb = (args) =>
  spawn(process.execPath, [join(root, 'bin/run.js'), ...args], {
    cwd: project,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
const exited = (child) => new Promise((r) => child.on('close', (code) => r(code)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const like = {
  postgresql: "query LIKE 'SELECT pg_sleep((SELECT coalesce%' AND state = 'active'",
  mysql: "INFO LIKE 'SELECT SLEEP((SELECT coalesce%'",
};
const sessions = (d, name) =>
  d === 'postgresql'
    ? adminSql(d, `SELECT pid FROM pg_stat_activity WHERE ${like[d]} AND pid <> pg_backend_pid()`, name)
        .trim()
        .split('\n')
        .filter((l) => /^\s*\d+\s*$/.test(l))
        .map(Number)
    : adminSql(d, `SELECT ID FROM information_schema.PROCESSLIST WHERE ${like[d]} AND ID <> CONNECTION_ID()`, name)
        .trim()
        .split('\n')
        .slice(1)
        .map(Number);

for (const d of dialects) {
  const { name, url } = createDatabase(d);
  try {
    if (
      spawnSync(process.execPath, [join(root, 'bin/run.js'), 'sync', '51', '--url', url], { cwd: project, env })
        .status !== 0
    )
      throw new Error('sync 51 failed');
    adminSql(d, 'CREATE TABLE net_sleep (s INT)', name);
    const port = Number(new URL(SERVER_URLS[d].replace(/^[a-z]+:/, 'http:')).port);
    for (const fault of FAULTS) {
      const codes = [];
      const toExit = [];
      const toNext = [];
      for (let i = 0; i < trials; i++) {
        // A session a black-holed trial left running on the server must not be mistaken for this trial's.
        for (const id of sessions(d, name)) {
          try {
            adminSql(d, d === 'postgresql' ? `SELECT pg_terminate_backend(${id})` : `KILL ${id}`, name);
          } catch {
            // It ended meanwhile.
          }
        }
        adminSql(d, 'DELETE FROM net_sleep; INSERT INTO net_sleep VALUES (30)', name);
        const proxy = await startProxy('127.0.0.1', port);
        const child = glanceDb(['sync', '--url', proxy.url(url), '--io-timeout', io]);
        const done = exited(child);
        let ids = [];
        while ((ids = sessions(d, name)).length === 0) await sleep(100);
        const t0 = performance.now();
        if (fault === 'blackhole') proxy.blackhole();
        else if (fault === 'reset') proxy.reset();
        else if (fault === 'terminate')
          adminSql(
            d,
            d === 'postgresql' ? `SELECT pg_terminate_backend(${ids[0]})` : `KILL CONNECTION ${ids[0]}`,
            name,
          );
        else child.kill(fault.toUpperCase());
        codes.push(await done);
        toExit.push((performance.now() - t0) / 1000);
        adminSql(d, 'DELETE FROM net_sleep', name);
        const t1 = performance.now();
        const next = await exited(glanceDb(['sync', '--url', url, '--lock-wait', '600']));
        if (next !== 0) codes.push(`next run ${next}`);
        toNext.push((performance.now() - t1) / 1000);
        await proxy.close();
        adminSql(d, `DELETE FROM glance_db_version WHERE version = 99; DROP TABLE net_mark`, name);
      }
      const fmt = (xs) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} s`;
      console.log(
        `${d}\t${fault}\texit ${[...new Set(codes)].join(',')}\tfault to exit ${fmt(toExit)}\tnext run done in ${fmt(toNext)}`,
      );
    }
  } finally {
    dropDatabase(d, name);
  }
}
rmSync(project, { recursive: true, force: true });
