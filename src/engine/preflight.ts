// Before the lock and before anything changes: let the driver check the
// server against the statements this run may execute (MySQL/MariaDB: the
// Galera node's state, and settings a pending version needs).
import type { Driver } from '../drivers/driver.js';
import type { RunContext } from './context.js';
import { readMigrationFile, statementsOf } from './files.js';

export async function preflightChecks(ctx: RunContext, driver: Driver, target: number, currentVersion?: number): Promise<void> {
  if (!driver.preflight) return;
  await driver.preflight(async () => {
    const rows = driver.exists() ? await driver.readHistory() : [];
    const done = new Set(rows.filter((r) => r.status === 'complete').map((r) => r.version));
    const floor = rows.length === 0 && currentVersion !== undefined ? currentVersion : -Infinity;
    return ctx.manifest.migrations
      .filter((m) => m.version <= target && m.version > floor && !done.has(m.version))
      .flatMap((m) => statementsOf(readMigrationFile(ctx.manifest, m, driver.dialect), driver.dialect, m.version).map((s) => s.text));
  });
}
