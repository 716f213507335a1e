// The data commands (metadefs, purge) work on Glance's tables as the newest
// version defines them: they open the database only when glance-db manages
// it and it is at the manifest's newest version, and refuse otherwise with
// the exit code `check` would give (5, 13, 14, 4, 11).
import type { Driver } from '../drivers/driver.js';
import { createDriver } from '../drivers/index.js';
import { ManagedByGlanceManageError, PartlyAppliedError, UpgradePendingError } from '../errors.js';
import type { RunContext } from './context.js';
import { summarize, verifyHistory } from './history.js';
import { statusOf } from './status.js';
import { notUnder } from './sync.js';

/**
 * Opens the configured database (never creating it), takes the migration
 * lock when the command writes, checks the version, and runs fn. The driver
 * is closed (and the lock released) afterwards.
 */
export async function withLatestDatabase<T>(ctx: RunContext, command: string, writes: boolean, fn: (driver: Driver) => Promise<T>): Promise<T> {
  const driver = await createDriver(ctx.driverConfig());
  try {
    await driver.open();
    if (!driver.exists()) throw notUnder(ctx, command);
    if (writes) await driver.lock();
    await requireLatest(ctx, driver, command);
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

export async function requireLatest(ctx: RunContext, driver: Driver, command: string): Promise<void> {
  const latest = ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version;
  const rows = await driver.readHistory();
  if (rows.length === 0) {
    const s = await statusOf(ctx, driver);
    if (s) {
      throw new ManagedByGlanceManageError(ctx.target.display, s.source, s.version,
        `Run glance-db sync first: it takes the database over and upgrades it to ${latest}; then run ${command} again.`);
    }
    throw notUnder(ctx, command);
  }
  verifyHistory(ctx.manifest, rows, driver.dialect);
  const partial = rows.find((r) => r.status !== 'complete');
  if (partial) throw new PartlyAppliedError(partial.version, partial.statementsApplied, partial.statementsTotal, command, latest);
  const current = summarize(rows).current;
  if (current !== latest) throw new UpgradePendingError(current, latest, command);
}
