// `snapshot VERSION`: the expected schema of a version a site adds, made the
// way schema/expected was made for glance-db's own versions: build the
// version on an empty scratch database with glance-db's own SQL, read the
// schema back, and write the model next to the manifest
// (schema/expected/<dialect>/vNN.json), where verify, check and take-over
// look first.
import { OutputError, UsageError } from '../platform/errors.js';
import { checkOutputPath, writeOutputFile } from '../platform/output.js';
import { createDriver } from '../dialects/create-driver.js';
import { introspect } from '../core/introspect/index.js';
import { bookkeepingTables, siteSnapshotPath } from '../core/introspect/snapshot.js';
import type { RunContext } from '../core/run-context.js';
import { sync } from './sync.js';
import { findMigration } from './sync-refusals.js';

const HINT =
  'Run glance-db snapshot with your manifest (--config FILE, or in the folder that holds glance-db.yaml), in a folder you can write to.';

export async function snapshot(ctx: RunContext, version: number): Promise<{ path: string; tables: number }> {
  findMigration(ctx, version, 'VERSION');
  // Refused before the scratch database is built: a place glance-db never writes (its installed package above all).
  const where = siteSnapshotPath(ctx.manifest, ctx.target.dialect, version);
  checkOutputPath(
    where,
    (why) => new OutputError(`Cannot write the expected schema to ${where}: ${why}. Nothing was written.`, HINT),
  );
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
    throw new UsageError(
      `glance-db snapshot builds version ${version} on an empty scratch database, and ${ctx.target.display} holds ${tables.length} table(s). Nothing was changed.`,
      'Point --url at a new, empty database (it is left at that version afterwards; drop it when done).',
    );
  }
  await sync(ctx, { version, requireVersionControl: false });
  const driver = await createDriver(ctx.driverConfig());
  try {
    await driver.open();
    const model = await introspect(driver);
    for (const t of bookkeepingTables(ctx.manifest.versionTable)) delete model.tables[t];
    const path = siteSnapshotPath(ctx.manifest, driver.dialect, version);
    writeOutputFile(path, `${JSON.stringify(model, null, 1)}\n`, 'the expected schema to', HINT, {
      createFolders: 0o755,
    });
    return { path, tables: Object.keys(model.tables).length };
  } finally {
    await driver.close();
  }
}
