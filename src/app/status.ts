// Read-only looks at a database (version, check, verify, plan): no lock,
// nothing created, nothing written.
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { createDriver } from '../dialects/create-driver.js';
import { detectGlanceManaged } from '../glance/detect.js';
import { handbackPlan, withHandback } from '../glance/handback.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { checkNoGaps, summarize } from '../core/history.js';
import { notUnder } from './sync-refusals.js';
import { rollingState, type RollingState } from '../core/phases.js';

export interface Status {
  version: number;
  /** glance_db_version, or Glance's own table and revision(s). */
  source: string;
  managedBy: 'glance-db' | 'glance-manage';
  revisions?: string[];
  /** A rolling upgrade under way: where it stands (version stays the highest version with every one below it complete). */
  rolling?: RollingState;
}

/** Opens the configured database without creating it; fn sees null when it does not exist (a missing SQLite file). */
export async function withExistingDatabase<T>(ctx: RunContext, fn: (driver: Driver | null) => Promise<T>): Promise<T> {
  const driver = await createDriver(ctx.driverConfig());
  try {
    await driver.open();
    return await fn(driver.exists() ? driver : null);
  } finally {
    await driver.close();
  }
}

export async function statusOf(ctx: RunContext, driver: Driver): Promise<Status | null> {
  return (await statusAndHistory(ctx, driver)).status;
}

/** The status, and the history it was read from: the version rows with what glance-manage did since counted as done. */
export async function statusAndHistory(
  ctx: RunContext,
  driver: Driver,
): Promise<{ status: Status | null; rows: VersionRow[] }> {
  // What glance-manage did since glance-db's last write counts as done (engine/handback.ts).
  const read = await driver.readHistory();
  const rows = withHandback(read, await handbackPlan(ctx, driver, read));
  const history = summarize(rows);
  if (history.current !== null)
    await checkNoGaps(ctx.manifest, driver, rows, ctx.rules, ctx.target.display, suggest(ctx, 'repair'));
  const rolling = rollingState(ctx.manifest, rows);
  if (history.current !== null) {
    const status: Status = {
      version: history.current,
      source: ctx.manifest.versionTable,
      managedBy: 'glance-db',
      ...(rolling.underWay ? { rolling } : {}),
    };
    return { status, rows };
  }
  const glance = await detectGlanceManaged(driver, await driver.listTables());
  if (glance) {
    const status: Status = {
      version: glance.version,
      source: glance.source,
      managedBy: 'glance-manage',
      revisions: glance.revisions,
    };
    return { status, rows };
  }
  return { status: null, rows };
}

export async function readStatus(ctx: RunContext, command = 'version'): Promise<Status> {
  return withExistingDatabase(ctx, async (driver) => {
    const status = driver && (await statusOf(ctx, driver));
    if (!status) throw notUnder(ctx, command);
    return status;
  });
}
