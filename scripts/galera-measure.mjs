#!/usr/bin/env node
// Writeset sizes and commit stalls of an upgrade on the Galera cluster
// (scripts/galera.sh start first): builds a v43 database of IMAGES images
// through node 1 (bench/populate.mjs; 44 changes only metadef data, so a v44
// population fits it), then upgrades it version by version, 44 to 51,
// with glance-db against node 2 while a probe on node 3 commits one small
// row every PROBE_MS and times each commit. Per version: the bytes and
// writesets node 2 replicated (wsrep_replicated_bytes / wsrep_replicated),
// so the largest single writeset (a data step is one transaction) can be set
// against wsrep_max_ws_size; and the longest probe commit while it ran.
//   npm run build && node scripts/galera-measure.mjs [--images 200000] [--probe-ms 50] [--from 44] [--images-only]
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const IMAGES = arg('images', 200000);
const PROBE_MS = arg('probe-ms', 50);
// --from V: versions below V run after the load but are not measured.
// --images-only: only the images rows of the load (no properties,
// locations, tags, members), which loads in a fraction of the time: for
// versions that only alter images (47, 48), whose stall grows with it alone.
const FROM = arg('from', 44);
const IMAGES_ONLY = process.argv.includes('--images-only');
const urls = (
  process.env.GLANCE_DB_TEST_GALERA_URLS ||
  spawnSync('bash', [join(root, 'scripts/galera.sh'), 'urls'], { encoding: 'utf8' }).stdout.trim()
).split(',');
const port = (i) => Number(new URL(urls[i].replace(/^mysql:/, 'http:')).port);
const name = `glancedb_m_${Date.now().toString(36)}`;

function client(i, sql, input) {
  const r = spawnSync(
    'mariadb',
    [
      '--protocol=tcp',
      '-h',
      '127.0.0.1',
      '-P',
      String(port(i)),
      '-u',
      'root',
      '-N',
      '-B',
      ...(input ? [name] : ['-e', sql]),
    ],
    { input, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}
// Not spawnSync: the probe shares this process's event loop.
const glanceDb = (args) =>
  new Promise((resolve, reject) => {
    const t = performance.now();
    const c = spawn(process.execPath, [join(root, 'bin/run.js'), ...args, '--config', join(root, 'glance-db.yaml')]);
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) =>
      code === 0
        ? resolve(performance.now() - t)
        : reject(new Error(`glance-db ${args.join(' ')}: exit ${code}: ${err}`)),
    );
  });
const url = (i) => urls[i].replace(/\/[^/?]*$/, `/${name}`);

const node2 = await mysql.createConnection({ host: '127.0.0.1', port: port(1), user: 'root' });
const statusOf = async (c, v) => Number((await c.query(`SHOW GLOBAL STATUS LIKE '${v}'`))[0][0]?.Value ?? NaN);
const maxWs = Number((await node2.query("SHOW GLOBAL VARIABLES LIKE 'wsrep_max_ws_size'"))[0][0].Value);

client(
  0,
  `CREATE DATABASE ${name} CHARACTER SET utf8; CREATE DATABASE ${name}_probe; CREATE TABLE ${name}_probe.p (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(3))`,
);
try {
  await glanceDb(['sync', '43', '--url', url(0)]);
  const populate = spawnSync(process.execPath, [join(root, 'bench/populate.mjs'), 'mysql', String(IMAGES)], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const t0 = performance.now();
  client(
    0,
    '',
    IMAGES_ONLY
      ? populate.stdout
          .split(/;\n/)
          .filter((st) => !/^INSERT INTO (?!images )/.test(st.trim()))
          .join(';\n')
      : populate.stdout,
  );
  // Nodes 2 and 3 apply the load's large writesets after node 1 commits
  // them: wait until both hold every image and have nothing queued, or the
  // first sync's causal reads on node 2 time out (exit 32) and the load's
  // apply would count as a stall of the first version.
  for (const i of [1, 2]) {
    while (
      Number(client(i, `SELECT count(*) FROM ${name}.images`)) !== IMAGES ||
      client(i, "SHOW GLOBAL STATUS LIKE 'wsrep_local_recv_queue'").split('\t')[1] !== '0'
    )
      await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(
    `galera-measure: ${IMAGES} images loaded through node 1 in ${((performance.now() - t0) / 1000).toFixed(1)} s (applied on every node); wsrep_max_ws_size ${maxWs} bytes`,
  );

  for (let v = 44; v < FROM; v++) await glanceDb(['sync', String(v), '--url', url(1)]);

  // The probe: one tiny autocommit write on node 3 every PROBE_MS, timed.
  const probe = await mysql.createConnection({
    host: '127.0.0.1',
    port: port(2),
    user: 'root',
    database: `${name}_probe`,
  });
  const probes = [];
  let running = true;
  const probing = (async () => {
    while (running) {
      const start = performance.now();
      await probe.query('INSERT INTO p (at) VALUES (UTC_TIMESTAMP(3))');
      probes.push({ start, end: performance.now() });
      await new Promise((r) => setTimeout(r, PROBE_MS));
    }
  })();

  const windows = [];
  for (let v = FROM; v <= 51; v++) {
    const bytes = await statusOf(node2, 'wsrep_replicated_bytes');
    const sets = await statusOf(node2, 'wsrep_replicated');
    const start = performance.now();
    const ms = await glanceDb(['sync', String(v), '--url', url(1)]);
    windows.push({
      v,
      start,
      end: performance.now(),
      ms,
      dBytes: (await statusOf(node2, 'wsrep_replicated_bytes')) - bytes,
      dSets: (await statusOf(node2, 'wsrep_replicated')) - sets,
    });
  }
  running = false;
  await probing;
  await probe.end();
  // A probe commit's wait, counted in each version window it overlaps.
  const rows = windows.map((w) => ({
    ...w,
    stall: Math.max(
      0,
      ...probes
        .filter((p) => p.start < w.end && p.end > w.start)
        .map((p) => Math.min(p.end, w.end) - Math.max(p.start, w.start)),
    ),
  }));
  for (const r of rows) {
    console.log(
      `  v${r.v}: ${(r.ms / 1000).toFixed(2)} s, node 2 replicated ${r.dSets} writesets, ${(r.dBytes / 2 ** 20).toFixed(1)} MiB (${((100 * r.dBytes) / maxWs).toFixed(2)} % of wsrep_max_ws_size); longest wait of a probe commit on node 3 during it: ${r.stall.toFixed(0)} ms`,
    );
  }
  const longest = probes.reduce((a, p) => (p.end - p.start > a.end - a.start ? p : a), { start: 0, end: 0 });
  console.log(
    `  probe commits on node 3: ${probes.length}, median ${(probes.map((p) => p.end - p.start).sort((a, b) => a - b)[probes.length >> 1] ?? 0).toFixed(1)} ms, longest ${(longest.end - longest.start).toFixed(0)} ms`,
  );
  const big = rows.reduce((a, b) => (b.dBytes > a.dBytes ? b : a));
  const stall = rows.reduce((a, b) => (b.stall > a.stall ? b : a));
  console.log(
    `galera-measure: largest per-version replication v${big.v} ${(big.dBytes / 2 ** 20).toFixed(1)} MiB in ${big.dSets} writesets; longest commit stall ${stall.stall.toFixed(0)} ms during v${stall.v}; ${IMAGES} images${IMAGES_ONLY ? ' (images rows only)' : ''}`,
  );
} finally {
  client(0, `DROP DATABASE IF EXISTS ${name}; DROP DATABASE IF EXISTS ${name}_probe`);
  await node2.end();
}
