// Before the lock and before anything changes: let the driver check the
// server against the statements this run may execute (MySQL/MariaDB: the
// Galera node's state, and settings a pending version needs).
import type { Driver } from './driver/driver.js';
import type { RunContext } from './run-context.js';
import { readMigrationFile, statementsOf } from './files.js';
import type { Phase } from './manifest/types.js';
import { rollingState, type Step } from './phases.js';
import { plannedSteps, versionSteps } from './rolling.js';

/**
 * `mode`: a rolling-upgrade phase (expand, migrate, contract: that phase's
 * files), or 'phases' (sync on a Galera node: a phased version's phase
 * files); otherwise whole files. A rolling upgrade under way is finished
 * through its phases whatever the mode, and checked so: its expand files
 * create the compatibility triggers that need log_bin_trust_function_creators
 * or SUPER, which the pre-flight says before expand starts.
 */
export async function preflightChecks(
  ctx: RunContext,
  driver: Driver,
  target: number,
  currentVersion?: number,
  mode?: Phase | 'phases',
): Promise<void> {
  if (!driver.preflight) return;
  await driver.preflight(async () => {
    const rows = driver.exists() ? await driver.readHistory() : [];
    const texts = (steps: Step[]) => steps.flatMap((s) => s.statements.map((x) => x.text));
    const state = rollingState(ctx.manifest, rows);
    if (mode && mode !== 'phases') return texts(plannedSteps(ctx, driver.dialect, rows, mode, target));
    const first = state.underWay ? texts(plannedSteps(ctx, driver.dialect, rows, 'finish', target)) : [];
    const done = new Set(rows.filter((r) => r.status === 'complete' || state.underWay).map((r) => r.version));
    const floor = rows.length === 0 && currentVersion !== undefined ? currentVersion : -Infinity;
    return [
      ...first,
      ...ctx.manifest.migrations
        .filter(
          (m) =>
            m.version <= target &&
            m.version > floor &&
            !done.has(m.version) &&
            !(state.top !== null && m.version <= state.top),
        )
        .flatMap((m) =>
          mode === 'phases' && m.rolling === 'phased'
            ? texts(versionSteps(ctx, driver.dialect, m.version, rows))
            : statementsOf(readMigrationFile(ctx.manifest, m, driver.dialect), driver.dialect, m.version).map(
                (s) => s.text,
              ),
        ),
    ];
  });
}
