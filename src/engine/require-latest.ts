// The data commands (metadefs, purge) work on Glance's tables as the newest
// version defines them: they open the database only when glance-db manages
// it and it is at the manifest's newest version, and refuse otherwise with
// the exit code `check` would give (5, 13, 14, 4, 11).
import type { Driver } from '../drivers/driver.js';
import { createDriver } from '../drivers/index.js';
import { GlanceDbError } from '../errors.js';
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
  const driver = await createDriver(ctx.driverConfig(false));
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
      throw new GlanceDbError('NOT_UNDER_VERSION_CONTROL', `The database ${ctx.target.display} is managed by glance-manage (${s.source} at ${s.version}), not by glance-db.`, {
        fields: { database: ctx.target.display },
        hint: `Run glance-db sync first: it takes the database over and upgrades it to ${latest}; then run ${command} again.`,
      });
    }
    throw notUnder(ctx, command);
  }
  verifyHistory(ctx.manifest, rows, driver.dialect);
  const partial = rows.find((r) => r.status !== 'complete');
  if (partial) {
    throw new GlanceDbError('PARTLY_APPLIED', `Version ${partial.version} is partly applied (${partial.statementsApplied} of ${partial.statementsTotal} statements); ${command} needs a database at version ${latest}. Nothing was changed.`, {
      hint: 'Fix the cause of the failed version and run glance-db sync; it resumes where it stopped.',
    });
  }
  const current = summarize(rows).current;
  if (current !== latest) {
    throw new GlanceDbError('UPGRADE_PENDING', `The database is at version ${current}; ${command} needs the newest version, ${latest}. Nothing was changed.`, {
      fields: { current, latest },
      hint: 'Run glance-db sync first.',
    });
  }
}
