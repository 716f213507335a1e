// Seeded, deterministic data for a v44 Glance database, generated inside the
// database (a recursive CTE, generate_series, MariaDB's sequence engine) so
// that a million images load in seconds rather than through a client.
// Per image: 5 properties, 1 location (half with a "backend" key for step
// 49), 2 tags; every fifth image is shared with a member, and a seventh of
// those members are deleted (so step 45 must tell shared from private).
//   node bench/populate.mjs sqlite|postgresql|mysql IMAGES [SEED]  -> SQL on stdout

const CHUNK = 100_000;

function dialectParts(dialect) {
  if (dialect === 'postgresql') {
    return {
      seq: (lo, hi) => `generate_series(${lo}::bigint, ${hi}::bigint) AS s(i)`,
      cat: (...p) => p.join(' || '),
      pad: (e) => `lpad((${e})::text, 12, '0')`,
      text: (e) => `(${e})::text`,
      begin: 'BEGIN;',
      commit: 'COMMIT;',
    };
  }
  if (dialect === 'mysql') {
    return {
      seq: (lo, hi) => `(SELECT seq AS i FROM seq_${lo}_to_${hi}) AS s`,
      cat: (...p) => `CONCAT(${p.join(', ')})`,
      pad: (e) => `LPAD(${e}, 12, '0')`,
      text: (e) => `CAST(${e} AS CHAR)`,
      begin: 'START TRANSACTION;',
      commit: 'COMMIT;',
    };
  }
  return {
    seq: (lo, hi) =>
      `(WITH RECURSIVE r(i) AS (SELECT ${lo} UNION ALL SELECT i + 1 FROM r WHERE i < ${hi}) SELECT i FROM r) AS s`,
    cat: (...p) => p.join(' || '),
    pad: (e) => `printf('%012d', ${e})`,
    text: (e) => `CAST(${e} AS TEXT)`,
    begin: 'BEGIN;',
    commit: 'COMMIT;',
  };
}

/** The SQL, chunked by CHUNK images per transaction. */
export function populateSql(dialect, images, seed = 1) {
  const d = dialectParts(dialect);
  const h = `((s.i * 7919 + ${Number(seed) * 104729}) % 1000)`;
  const id = d.cat(`'00000000-0000-4000-8000-'`, d.pad('s.i'));
  const ts = `'2020-01-01 00:00:00'`;
  const out = [];
  for (let lo = 1; lo <= images; lo += CHUNK) {
    const hi = Math.min(images, lo + CHUNK - 1);
    const seq = d.seq(lo, hi);
    out.push(d.begin);
    out.push(`INSERT INTO images (id, name, size, status, is_public, created_at, deleted, disk_format, container_format, owner, min_disk, min_ram, protected)
SELECT ${id}, ${d.cat(`'image-'`, d.text('s.i'))}, s.i * 1024, 'active', (${h} < 300), ${ts}, (${h} % 50 = 7), 'qcow2', 'bare', ${d.cat(`'tenant-'`, d.text('s.i % 97'))}, 0, 0, (${h} % 100 = 3) FROM ${seq};`);
    out.push(`INSERT INTO image_properties (image_id, name, value, created_at, deleted)
SELECT ${id}, ${d.cat(`'prop_'`, d.text('p.n'))}, ${d.cat(`'value-'`, d.text('s.i * p.n'))}, ${ts}, (1 = 0) FROM ${seq} CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5) AS p;`);
    out.push(`INSERT INTO image_locations (image_id, value, created_at, deleted, meta_data, status)
SELECT ${id}, ${d.cat(`'file:///var/lib/glance/images/'`, d.pad('s.i'))}, ${ts}, (1 = 0), CASE WHEN s.i % 2 = 0 THEN ${d.cat(`'{"backend": "store'`, d.text('s.i % 4'), `'"}'`)} ELSE '{}' END, 'active' FROM ${seq};`);
    out.push(`INSERT INTO image_tags (image_id, value, created_at, deleted)
SELECT ${id}, t.v, ${ts}, (1 = 0) FROM ${seq} CROSS JOIN (SELECT 'tag-a' AS v UNION ALL SELECT 'tag-b') AS t;`);
    out.push(`INSERT INTO image_members (image_id, member, can_share, created_at, deleted, status)
SELECT ${id}, ${d.cat(`'tenant-'`, d.text('(s.i + 1) % 97'))}, (1 = 0), ${ts}, (${h} % 7 = 0), 'accepted' FROM ${seq} WHERE s.i % 5 = 0;`);
    out.push(d.commit);
  }
  return `${out.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [dialect, images, seed] = process.argv.slice(2);
  if (!['sqlite', 'postgresql', 'mysql'].includes(dialect) || !(Number(images) > 0)) {
    process.stderr.write('usage: node bench/populate.mjs sqlite|postgresql|mysql IMAGES [SEED]\n');
    process.exit(2);
  }
  process.stdout.write(populateSql(dialect, Number(images), Number(seed ?? 1)));
}
