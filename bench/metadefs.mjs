#!/usr/bin/env node
// Benchmarks of the data commands, per dialect:
//  - metadefs load of generated namespaces (about as many as Glance ships,
//    shaped like its files) into an empty database: wall time of the whole
//    command, start-up included, median of --runs;
//  - purge of --rows soft-deleted rows (image_properties, deleted 60 days
//    ago) with --batch rows per batch: total time, and the longest gap
//    between two progress lines, an upper bound on how long one batch's
//    transaction (and its locks) lasted (on SQLite it includes the
//    write-back of the file every 2 s).
//   node bench/metadefs.mjs [--dialects sqlite,postgresql,mysql] [--namespaces 40] [--runs 5] [--rows 1000000] [--batch 10000]
// Part of npm run bench (after bench/run.mjs); never part of npm test.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, database, glanceDb, median, timed, workDir } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const dialects = opt('--dialects', 'sqlite,postgresql,mysql').split(',');
const namespaces = Number(opt('--namespaces', 40));
const runs = Number(opt('--runs', 5));
const rows = Number(opt('--rows', 1_000_000));
const batch = Number(opt('--batch', 10_000));
const dir = workDir();
const log = (s) => process.stderr.write(`${s}\n`);

/** Namespaces shaped like Glance's shipped ones: a few resource types, ~6 properties, 1-2 objects, some tags. */
function generate(folder) {
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const rts = [
    'OS::Glance::Image',
    'OS::Cinder::Volume',
    'OS::Nova::Flavor',
    'OS::Nova::Aggregate',
    'OS::Nova::Server',
  ];
  for (let n = 0; n < namespaces; n++) {
    const prop = (i) => ({
      title: `Property ${i}`,
      description: `Generated property ${i} of namespace ${n}.`,
      type: i % 3 ? 'string' : 'integer',
      ...(i % 3 ? { enum: ['a', 'b', 'c'] } : { minimum: 0, maximum: 4096 }),
    });
    const doc = {
      namespace: `Bench::Namespace${n}`,
      display_name: `Bench namespace ${n}`,
      description: 'Generated for bench/metadefs.mjs.',
      visibility: 'public',
      protected: true,
      resource_type_associations: rts
        .slice(0, 1 + (n % 3))
        .map((name, i) => ({ name, prefix: `bench${n}_`, ...(i === 0 ? { properties_target: 'image' } : {}) })),
      properties: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`bench${n}_p${i}`, prop(i)])),
      objects: Array.from({ length: 1 + (n % 2) }, (_, o) => ({
        name: `Object ${o}`,
        description: 'Generated.',
        required: [`bench${n}_o${o}_0`],
        properties: Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`bench${n}_o${o}_${i}`, prop(i)])),
      })),
      tags: Array.from({ length: n % 4 }, (_, i) => ({ name: `bench-tag-${i}` })),
    };
    writeFileSync(join(folder, `bench-${n}.json`), JSON.stringify(doc, null, 4));
  }
}

function populateSql(dialect) {
  const imgs = Math.ceil(rows / 10);
  if (dialect === 'postgresql') {
    return [
      `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility, os_hidden) SELECT 'img-' || g, 'x', 'active', now(), false, 0, 0, false, 'shared', false FROM generate_series(1, ${imgs}) g`,
      `INSERT INTO image_properties (id, image_id, name, value, created_at, deleted, deleted_at) SELECT g, 'img-' || ((g - 1) / 10 + 1), 'p' || g, 'v', now() - interval '100 days', true, now() - interval '60 days' FROM generate_series(1, ${rows}) g`,
    ];
  }
  if (dialect === 'mysql') {
    return [
      `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility, os_hidden) SELECT CONCAT('img-', seq), 'x', 'active', NOW(), 0, 0, 0, 0, 'shared', 0 FROM seq_1_to_${imgs}`,
      `INSERT INTO image_properties (id, image_id, name, value, created_at, deleted, deleted_at) SELECT seq, CONCAT('img-', (seq - 1) DIV 10 + 1), CONCAT('p', seq), 'v', NOW() - INTERVAL 100 DAY, 1, NOW() - INTERVAL 60 DAY FROM seq_1_to_${rows}`,
    ];
  }
  const series = (n) => `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n})`;
  return [
    `${series(imgs)} INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility, os_hidden) SELECT 'img-' || g, 'x', 'active', datetime('now'), 0, 0, 0, 0, 'shared', 0 FROM s`,
    `${series(rows)} INSERT INTO image_properties (id, image_id, name, value, created_at, deleted, deleted_at) SELECT g, 'img-' || ((g - 1) / 10 + 1), 'p' || g, 'v', datetime('now', '-100 days'), 1, datetime('now', '-60 days') FROM s`,
  ];
}

/** Runs the CLI, timing the whole run and the longest gap between two stderr progress lines. */
function purgeTimed(db) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let last = started;
    let maxGap = 0;
    let batches = 0;
    const child = spawn(
      process.execPath,
      [BIN, 'purge', '--age-in-days', '30', '--batch-size', String(batch), '--url', db.url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      const now = performance.now();
      const lines = String(d)
        .split('\n')
        .filter((l) => /batch \d+/.test(l)).length;
      if (lines > 0) {
        // The first line's wait includes start-up; from then on, a gap is at most one batch.
        if (batches > 0) maxGap = Math.max(maxGap, now - last);
        last = now;
        batches += lines;
      }
    });
    child.on('close', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - started, maxBatchMs: maxGap, batches, out })
        : reject(new Error(`purge exited ${code}: ${out}`)),
    );
  });
}

const folder = join(dir, 'metadefs-generated');
generate(folder);
const results = [];
for (const dialect of dialects) {
  const db = database(dialect, 'gdb_bench_metadefs', dir);
  db.create();
  timed(...glanceDb(['sync'], db));
  const loads = [];
  for (let i = 0; i < runs; i++) {
    timed(...glanceDb(['metadefs', 'unload', '--yes'], db));
    loads.push(timed(...glanceDb(['metadefs', 'load', folder], db)).ms);
  }
  const merge = timed(...glanceDb(['metadefs', 'load', folder, '--merge', '--prefer-new'], db)).ms;
  const version = timed(...glanceDb(['version'], db)).ms;
  log(
    `${dialect}: metadefs load of ${namespaces} namespaces: median ${median(loads).toFixed(0)} ms (glance-db version: ${version.toFixed(0)} ms); load --merge --prefer-new, all unchanged: ${merge.toFixed(0)} ms`,
  );
  const fill = performance.now();
  for (const sql of populateSql(dialect)) db.query(sql);
  log(
    `${dialect}: populated ${rows} soft-deleted image_properties rows in ${((performance.now() - fill) / 1000).toFixed(1)} s`,
  );
  const p = await purgeTimed(db);
  const left = Number(db.query('SELECT COUNT(*) FROM image_properties'));
  if (left !== 0) throw new Error(`${dialect}: ${left} rows left after purge`);
  log(
    `${dialect}: purge of ${rows} rows in ${p.batches} batches of ${batch}: ${(p.ms / 1000).toFixed(1)} s, longest batch ${p.maxBatchMs.toFixed(0)} ms`,
  );
  results.push({
    dialect,
    namespaces,
    loadMs: Math.round(median(loads)),
    versionMs: Math.round(version),
    mergeMs: Math.round(merge),
    rows,
    batch,
    purgeMs: Math.round(p.ms),
    batches: p.batches,
    maxBatchMs: Math.round(p.maxBatchMs),
  });
  db.drop();
}
rmSync(folder, { recursive: true, force: true });
const text = `${JSON.stringify({ bench: 'metadefs-and-purge', at: new Date().toISOString(), namespaces, runs, rows, batch, results }, null, 2)}\n`;
writeFileSync(join(dir, 'metadefs.json'), text);
process.stdout.write(text);
