// `--dry-run` of sync, upgrade and the phase commands: what the run would do,
// computed from the database's state and the plan that sync itself follows,
// with nothing changed. cli renders the result (src/cli/migrate-command.ts).
import { DryRunRefusedError, NotUnderVersionControlError, type ExitCodeName } from '../platform/errors.js';
import type { RunContext } from '../core/run-context.js';
import type { Goal } from '../glance/goal.js';
import type { Phase } from '../core/manifest/types.js';
import type { Plan, PlannedPhase } from '../core/plan.js';
import { rollingState } from '../core/phases.js';
import { plannedSteps } from '../core/rolling.js';
import { checkOrder, refuseUnmigrated, withRowsLeft } from '../core/rolling-order.js';
import { verifyHistory } from '../core/history.js';
import { check } from './check.js';
import { plan, plannedPhase } from './plan.js';
import { downgradeError } from './sync-refusals.js';
import { adjustGlanceExpanded } from '../glance/continue.js';
import { withExistingDatabase } from './status.js';

export interface SyncDryRunRequest {
  /** The target version; the newest when absent. */
  version?: number;
  /** The version a database not under version control is at (`sync <version> <current_version>`). */
  currentVersion?: number;
  requireVersionControl: boolean;
  acceptDrift: boolean;
  /** No target was given: a database past the default target has nothing to do (no downgrade refusal). */
  defaultTarget: boolean;
}

/** Nothing to do (already past the default target), or the plan sync would follow. */
export type SyncDryRun = { kind: 'current'; from: number } | { kind: 'plan'; plan: Plan };

/**
 * What sync would do, refusing what sync would refuse (drift, an unknown
 * version, a downgrade). `warn` hears, as soon as it is known, what sync
 * would record with --accept-drift.
 */
export async function dryRunSync(
  ctx: RunContext<Goal>,
  req: SyncDryRunRequest,
  warn: (text: string) => void,
): Promise<SyncDryRun> {
  const target = req.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version;
  const c = await check(ctx);
  if (c.state === 'checksum-drift' || c.state === 'unknown-version' || c.state === 'migration-file-unusable') {
    throw new DryRunRefusedError(c.code as ExitCodeName, c.line);
  }
  // sync refuses a database whose schema is not its recorded version's (exit 12), unless --accept-drift records the differences.
  if (c.state === 'schema-drift' && !req.acceptDrift) throw new DryRunRefusedError(c.code as ExitCodeName, c.line);
  if (c.state === 'schema-drift')
    warn(`${c.line}; sync --accept-drift would record the differences, then run the plan below`);
  const underControl = c.state !== 'not-under-version-control';
  if (!underControl && req.requireVersionControl) {
    throw new NotUnderVersionControlError(
      ctx.target.display,
      'Run glance-db sync to place it under version control.',
      ` Found: ${c.line.replace(/^not under version control: /, '')}. Nothing was changed (dry run).`,
    );
  }
  const from = underControl ? c.current : (req.currentVersion ?? c.current);
  if (from !== null && target < from && req.defaultTarget && underControl) return { kind: 'current', from };
  if (from !== null && target < from) throw downgradeError(ctx, from, target);
  // Planned against the database, as sync plans under its lock (app/plan.ts syncPlan): the phases that finish a
  // rolling upgrade under way, and Glance's bookkeeping as its tables need it (migrate_version moved on too).
  // Only a database sync would record as at CURRENT_VERSION is planned from that version; one Glance's bookkeeping
  // places (glance-manage built it) is planned against it too, as sync adopts it (a rolling upgrade it left half way
  // is finished in place: app/plan.ts finishingOf).
  const online = from === null || underControl || req.currentVersion === undefined;
  const p = await plan(ctx, online ? { version: target } : { version: target, from, dialect: ctx.target.dialect });
  return { kind: 'plan', plan: p };
}

/** The steps a phase command (expand, migrate, contract) would run, refusing what it would refuse. */
export async function dryRunPhase(ctx: RunContext, phase: Phase, version: number | undefined): Promise<PlannedPhase[]> {
  const target = version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version;
  const steps = await withExistingDatabase(ctx, async (driver) => {
    const rows = driver ? await driver.readHistory() : [];
    if (driver && rows.length) verifyHistory(ctx.manifest, rows, driver.dialect, ctx.toolVersion);
    checkOrder(ctx, phase, rollingState(ctx.manifest, rows), rows);
    if (driver && phase === 'contract') await refuseUnmigrated(ctx, driver, rows);
    const planned = plannedSteps(ctx, ctx.target.dialect, rows, phase, target);
    if (!driver) return planned;
    // 45's contract after glance-manage's expand is computed from the live schema, as the phase command runs it.
    const top = rollingState(ctx.manifest, rows).top ?? target;
    return adjustGlanceExpanded(driver, rows, await withRowsLeft(driver, planned), top);
  });
  return steps.map(plannedPhase);
}
