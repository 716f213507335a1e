// Read-only look at a database: its level and where that comes from,
// without taking the lock.
import { createDriver } from '../drivers/index.js';
import { detectGlanceManaged } from '../glance/detect.js';
import type { RunContext } from './context.js';
import { summarize } from './history.js';
import { notUnder } from './sync.js';

export interface Status {
  version: number;
  /** glance_db_version, or Glance's own table and revision(s). */
  source: string;
  managedBy: 'glance-db' | 'glance-manage';
  revisions?: string[];
}

export async function readStatus(ctx: RunContext): Promise<Status> {
  const driver = await createDriver(ctx.driverConfig(false));
  try {
    await driver.open();
    if (!driver.exists()) throw notUnder(ctx, 'version');
    const history = summarize(await driver.readHistory());
    if (history.current !== null) return { version: history.current, source: ctx.manifest.versionTable, managedBy: 'glance-db' };
    const glance = await detectGlanceManaged(driver, await driver.listTables());
    if (glance) return { version: glance.version, source: glance.source, managedBy: 'glance-manage', revisions: glance.revisions };
    throw notUnder(ctx, 'version');
  } finally {
    await driver.close();
  }
}
