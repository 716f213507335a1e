#!/usr/bin/env node
// Regenerates schema/expected/<dialect>/vNN.json: the normalized model of
// the schema glance-db's own SQL builds at every version. Run after adding
// a version (needs PostgreSQL and MariaDB for their dialects, see docs/contributing/tests.md):
//   npm run build && node scripts/snapshots.mjs [sqlite|postgresql|mysql ...]
// The tests check every snapshot against Glance's reference dumps.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { loadManifest } = await import(join(root, 'dist/src/core/manifest/load.js'));
const { createDriver } = await import(join(root, 'dist/src/dialects/create-driver.js'));
const { introspect } = await import(join(root, 'dist/src/core/introspect/index.js'));
const { parseDatabaseUrl } = await import(join(root, 'dist/src/dialects/index.js'));
const { bookkeepingTables } = await import(join(root, 'dist/src/core/introspect/snapshot.js'));

const manifest = loadManifest(join(root, 'glance-db.yaml'));
const dialects = process.argv.slice(2).length ? process.argv.slice(2) : manifest.dialects;
const servers = await import(join(root, 'dist/test/servers.js'));

function scratch(dialect) {
  const name = `glancedb_snap_${process.pid}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-snap-'));
    return { url: `sqlite:${join(dir, 'g.sqlite')}`, drop: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = (sql) => servers.adminSql(dialect, sql, dialect === 'postgresql' ? 'postgres' : undefined);
  admin(`DROP DATABASE IF EXISTS ${name}`);
  admin(dialect === 'postgresql' ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8`);
  return { url: servers.serverUrl(dialect, name), drop: () => admin(`DROP DATABASE IF EXISTS ${name}`) };
}

async function model(url) {
  const driver = await createDriver({
    target: parseDatabaseUrl(url, root),
    versionTable: manifest.versionTable,
    lockWaitMs: 5000,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 0,
    lockTimeoutMs: 0,
  });
  await driver.open();
  try {
    const m = await introspect(driver);
    for (const t of bookkeepingTables(manifest.versionTable)) delete m.tables[t];
    return m;
  } finally {
    await driver.close();
  }
}

for (const dialect of dialects) {
  const db = scratch(dialect);
  try {
    mkdirSync(join(root, 'schema/expected', dialect), { recursive: true });
    for (const { version } of manifest.migrations) {
      const r = spawnSync(
        process.execPath,
        [join(root, 'bin/run.js'), 'sync', String(version), '--url', db.url, '--config', join(root, 'glance-db.yaml')],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`sync ${version} on ${dialect} failed: ${r.stderr}`);
      writeFileSync(
        join(root, 'schema/expected', dialect, `v${version}.json`),
        `${JSON.stringify(await model(db.url), null, 1)}\n`,
      );
      console.log(`${dialect} v${version}`);
    }
  } finally {
    db.drop();
  }
}
