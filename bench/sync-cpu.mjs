// Before/after of the deploy's commands on the servers, wall time and CPU time
// (user + system, GNU time) side by side: on a shared machine the wall times
// are mostly waiting for a core, the CPU times much less so (issue 31).
// Interleaved round by round: `node -e 0`, dbmate's no-op `up`, then for each
// build `version`, a no-op sync and a fresh sync, then dbmate's `up` on an
// empty database; medians. BEFORE and AFTER are checkouts with a build
// (bin/run.js and dist/bundle), e.g. a copy of main's.
//   node bench/sync-cpu.mjs RUNS BEFORE AFTER [postgresql,mysql]
// Databases are named gdb_startup_* (GLANCE_DB_BENCH_DB_PREFIX to change) and dropped at the end.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
process.env.GLANCE_DB_BENCH_DB_PREFIX ||= 'gdb_startup';
const [runs, before, after, dl = 'postgresql,mysql'] = process.argv.slice(2);
const lib = await import(join(after, 'bench', 'lib.mjs'));
const dir = lib.workDir();
lib.ensureDbmate();
const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
function t(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', 'GDBT %e %U %S', cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.slice(-600)}`);
  const m = /GDBT (\S+) (\S+) (\S+)/.exec(r.stderr);
  return { wall: Number(m[1]) * 1000, cpu: (Number(m[2]) + Number(m[3])) * 1000 };
}
const node = process.execPath;
const res = {};
const add = (k, x) => ((res[k] ??= { wall: [], cpu: [] }).wall.push(x.wall), res[k].cpu.push(x.cpu));
for (const d of dl.split(',')) {
  const cur = { b: lib.database(d, 'gdb_cur_b', dir), a: lib.database(d, 'gdb_cur_a', dir) };
  const fresh = lib.database(d, 'gdb_fresh', dir);
  const dmCur = lib.database(d, 'gdb_dm_cur', dir),
    dmFresh = lib.database(d, 'gdb_dm_fresh', dir);
  lib.dbmateMigrations(d, dir);
  for (const db of [cur.b, cur.a, dmCur]) db.create();
  t(node, [join(before, 'bin/run.js'), 'sync', '--url', cur.b.url]);
  t(node, [join(after, 'bin/run.js'), 'sync', '--url', cur.a.url]);
  t(...lib.dbmate(['up'], dmCur, dir));
  for (let i = 0; i < Number(runs); i++) {
    add('node -e 0', t(node, ['-e', '0']));
    add(`${d} dbmate no-op up`, t(...lib.dbmate(['up'], dmCur, dir)));
    for (const [w, root] of [
      ['before', before],
      ['after', after],
    ]) {
      const bin = join(root, 'bin/run.js');
      const db = w === 'before' ? cur.b : cur.a;
      add(`${d} version ${w}`, t(node, [bin, 'version', '--url', db.url]));
      add(`${d} no-op sync ${w}`, t(node, [bin, 'sync', '--url', db.url]));
      fresh.create();
      add(`${d} fresh sync ${w}`, t(node, [bin, 'sync', '--url', fresh.url]));
    }
    dmFresh.create();
    add(`${d} dbmate up (fresh)`, t(...lib.dbmate(['up'], dmFresh, dir)));
  }
  for (const db of [cur.b, cur.a, dmCur, dmFresh, fresh]) db.drop();
}
console.log('| case | runs | wall median | CPU (user+sys) median |\n|---|---|---|---|');
for (const [k, v] of Object.entries(res))
  console.log(`| ${k} | ${v.wall.length} | ${med(v.wall).toFixed(0)} ms | ${med(v.cpu).toFixed(0)} ms |`);
