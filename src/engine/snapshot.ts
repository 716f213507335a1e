// `snapshot VERSION`: the expected schema of a version a site adds, made the
// way schema/expected was made for glance-db's own versions: build the
// version on an empty scratch database with glance-db's own SQL, read the
// schema back, and write the model next to the manifest
// (schema/expected/<dialect>/vNN.json), where verify, check and take-over
// look first.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutputError, UsageError } from '../errors.js';
import { reasonOf, writeOutputFile } from '../util/output.js';
import { createDriver } from '../drivers/index.js';
import { introspect } from '../introspect/index.js';
import { bookkeepingTables, siteSnapshotPath } from '../introspect/snapshot.js';
import type { RunContext } from './context.js';
import { findMigration, sync } from './sync.js';

export async function snapshot(ctx: RunContext, version: number): Promise<{ path: string; tables: number }> {
  findMigration(ctx, version, 'VERSION');
  const tables = await (async () => {
    const driver = await createDriver(ctx.driverConfig());
    try {
      await driver.open();
      return driver.exists() ? await driver.listTables() : [];
    } finally {
      await driver.close();
    }
  })();
  if (tables.length > 0) {
    throw new UsageError(`glance-db snapshot builds version ${version} on an empty scratch database, and ${ctx.target.display} holds ${tables.length} table(s). Nothing was changed.`,
      'Point --url at a new, empty database (it is left at that version afterwards; drop it when done).');
  }
  await sync(ctx, { version, requireVersionControl: false });
  const driver = await createDriver(ctx.driverConfig());
  try {
    await driver.open();
    const model = await introspect(driver);
    for (const t of bookkeepingTables(ctx.manifest.versionTable)) delete model.tables[t];
    const path = siteSnapshotPath(ctx.manifest, driver.dialect, version);
    const hint = 'Run glance-db snapshot with a manifest (--config) in a folder you can write to.';
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new OutputError(`Cannot create ${dirname(path)} for the expected schema: ${reasonOf(err)}. Nothing was written.`, hint);
    }
    writeOutputFile(path, `${JSON.stringify(model, null, 1)}\n`, 'the expected schema to', hint);
    return { path, tables: Object.keys(model.tables).length };
  } finally {
    await driver.close();
  }
}
