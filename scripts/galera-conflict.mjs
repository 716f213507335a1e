#!/usr/bin/env node
// Best-effort real trial of the certification retry on the Galera cluster
// (scripts/galera.sh start first): a v44 database of IMAGES images, then
// glance-db sync 45 against node 2 while node 3 keeps updating one image
// (the rows 45's data step updates) for CONFLICT_MS after 45 has started.
// A conflicting write committed on node 3 during 45's UPDATE makes node 2's
// transaction lose certification (error 1213); glance-db must retry it and
// finish with the right visibility everywhere. Prints the certification
// failures and brute-force aborts node 2 counted, and glance-db's outcome.
// Timing-dependent, so not part of npm test (test/galera-unit.test.ts
// covers the retry deterministically).
//   npm run build && node scripts/galera-conflict.mjs [--images 100000] [--conflict-ms 3000] [--trials 3]
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const IMAGES = arg('images', 100000);
const CONFLICT_MS = arg('conflict-ms', 3000);
const TRIALS = arg('trials', 3);
const urls = (
  process.env.GLANCE_DB_TEST_GALERA_URLS ||
  spawnSync('bash', [join(root, 'scripts/galera.sh'), 'urls'], { encoding: 'utf8' }).stdout.trim()
).split(',');
const port = (i) => Number(new URL(urls[i].replace(/^mysql:/, 'http:')).port);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function client(i, name, sql, input) {
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
      ...(name ? [name] : []),
      ...(input ? [] : ['-e', sql]),
    ],
    { input, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}
const glanceDb = (args) =>
  new Promise((resolve) => {
    const c = spawn(process.execPath, [join(root, 'bin/run.js'), ...args, '--config', join(root, 'glance-db.yaml')]);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code, out }));
  });

const node2 = await mysql.createConnection({ host: '127.0.0.1', port: port(1), user: 'root' });
const stat = async (v) => Number((await node2.query(`SHOW GLOBAL STATUS LIKE '${v}'`))[0][0]?.Value ?? NaN);
const populate = spawnSync(process.execPath, [join(root, 'bench/populate.mjs'), 'mysql', String(IMAGES)], {
  encoding: 'utf8',
  maxBuffer: 1 << 28,
}).stdout;
let ok = 0;
for (let t = 1; t <= TRIALS; t++) {
  const name = `glancedb_c_${Date.now().toString(36)}`;
  client(0, null, `CREATE DATABASE ${name} CHARACTER SET utf8`);
  try {
    await glanceDb(['sync', '44', '--url', urls[0].replace(/\/[^/]*$/, `/${name}`)]);
    client(0, name, '', populate);
    const expected = client(
      0,
      name,
      `SELECT CASE WHEN is_public = 1 THEN 'public' WHEN EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.deleted = 0) THEN 'shared' ELSE 'private' END AS v, count(*) FROM images GROUP BY v ORDER BY v`,
    );
    const cert = await stat('wsrep_local_cert_failures');
    const bf = await stat('wsrep_local_bf_aborts');
    const run = glanceDb(['sync', '45', '--url', urls[1].replace(/\/[^/]*$/, `/${name}`)]);
    const writer = await mysql.createConnection({ host: '127.0.0.1', port: port(2), user: 'root', database: name });
    // Wait for 45's data statement (its first statement, the ALTER, recorded).
    for (;;) {
      const [rows] = await writer.query('SELECT statements_applied AS n FROM glance_db_version WHERE version = 45');
      if (rows[0] && Number(rows[0].n) >= 1) break;
      await sleep(5);
    }
    let writes = 0;
    const until = Date.now() + CONFLICT_MS;
    while (Date.now() < until) {
      await writer.query("UPDATE images SET size = size + 1 WHERE id = '00000000-0000-4000-8000-000000000001'");
      writes++;
      await sleep(20);
    }
    await writer.end();
    const r = await run;
    const after = client(
      0,
      name,
      'SET SESSION wsrep_sync_wait = 1; SELECT visibility, count(*) FROM images GROUP BY visibility ORDER BY visibility',
    );
    const right = r.code === 0 && after === expected;
    if (right) ok++;
    console.log(
      `trial ${t}: ${writes} conflicting writes on node 3; node 2 counted ${(await stat('wsrep_local_cert_failures')) - cert} certification failures, ${(await stat('wsrep_local_bf_aborts')) - bf} brute-force aborts; glance-db exit ${r.code}; visibility ${right ? 'right' : 'WRONG'}${r.code ? `: ${r.out.trim().split('\n').slice(-2).join(' ')}` : ''}`,
    );
  } finally {
    client(0, null, `DROP DATABASE IF EXISTS ${name}`);
  }
}
await node2.end();
console.log(
  `galera-conflict: ${ok} of ${TRIALS} trials finished with the right result (${IMAGES} images, conflicting writes for ${CONFLICT_MS} ms)`,
);
process.exit(ok === TRIALS ? 0 : 1);
