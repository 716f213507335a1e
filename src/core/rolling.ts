// Running a rolling upgrade's phases (engine/phases.ts plans them), under
// the migration lock that sync takes: `expand`, `migrate` and `contract`,
// sync finishing a rolling upgrade that is under way, and sync on a Galera
// node, which runs the versions that have phases through them so that the
// big data steps go in batches.
//
// Here: which steps run (plannedSteps, versionSteps; sync's finishing steps
// are in its plan, core/plan.ts syncSteps) and the entry of the phase
// commands (runPhase). Whether a phase may run now is
// src/core/rolling-order.ts; running the steps, src/core/rolling-steps.ts.
import type { Driver, VersionRow } from './driver/driver.js';
import type { Phase } from './manifest/types.js';
import type { Dialect } from './driver/dialect.js';
import type { RunContext } from './run-context.js';
import { migrateAgain, rollingState, rowAfter, stepsOf, stepsOfVersion, type Step } from './phases.js';
import type { ProgressEvent } from './progress.js';
import { checkOrder, otherToolRollingError } from './rolling-order.js';
import { placeholderRow, runSteps, withRow, type StepResult } from './rolling-steps.js';

/**
 * Whether sync runs phased versions through their phases: on a MySQL node
 * with Galera replication on (issue 18: each data batch its own writeset,
 * far below wsrep_max_ws_size), or anywhere the run asks for it
 * (ctx.syncByPhases, GLANCE_DB_SYNC_BY_PHASES=1: for the tests, and to try
 * the Galera behaviour on a single server).
 */
export async function syncsByPhases(ctx: Pick<RunContext, 'syncByPhases'>, driver: Driver): Promise<boolean> {
  if (ctx.syncByPhases) return true;
  return (await driver.replicatesWritesets?.()) ?? false;
}

/**
 * The steps `mode` runs: one phase over every version that needs it
 * (expand: up to target; migrate, contract: up to the version the rolling
 * upgrade goes to), or 'finish', what sync runs to finish a rolling upgrade
 * under way: its expand, migrate and contract in turn.
 */
export function plannedSteps(
  ctx: RunContext,
  dialect: Dialect,
  rows: VersionRow[],
  mode: Phase | 'finish',
  target: number,
): Step[] {
  const state = rollingState(ctx.manifest, rows);
  const top = state.top ?? target;
  // migrate also runs again the migrate files of versions it already migrated, for rows left since (runSteps skips those with none).
  const withAgain = (phase: Phase, steps: Step[], from: VersionRow[]) =>
    phase === 'migrate'
      ? [...steps, ...migrateAgain(ctx.manifest, dialect, from, top)].sort((a, b) => a.mig.version - b.mig.version)
      : steps;
  if (mode !== 'finish')
    return withAgain(mode, stepsOf(ctx.manifest, dialect, rows, mode, mode === 'expand' ? target : top), rows);
  // Each phase's steps are planned from the rows as the phase before leaves them.
  const out: Step[] = [];
  let after = rows;
  for (const phase of ['expand', 'migrate', 'contract'] as Phase[]) {
    const steps = withAgain(phase, stepsOf(ctx.manifest, dialect, after, phase, top), after);
    out.push(...steps);
    after = steps
      .filter((s) => !s.topUp)
      .reduce(
        (rs, s) =>
          withRow(
            rs,
            rowAfter(
              s,
              rs.find((r) => r.version === s.mig.version),
              placeholderRow(ctx, dialect, s),
            ),
          ),
        after,
      );
  }
  return out;
}

/** Sync on a Galera node: a phased version's phases in turn (the others run whole, as everywhere). */
export function versionSteps(ctx: RunContext, dialect: Dialect, version: number, rows: VersionRow[]): Step[] {
  const mig = ctx.manifest.migrations.find((m) => m.version === version)!;
  return mig.rolling === 'phased'
    ? stepsOfVersion(
        ctx.manifest,
        dialect,
        mig,
        rows.find((r) => r.version === version),
      )
    : [];
}

/**
 * A phase command runs its phase, refused out of order. (sync finishes a rolling upgrade under way through the
 * steps its plan lists, core/plan.ts syncSteps.) A rolling upgrade the other tool left half way is finished by
 * sync alone (`finishing`), not by a phase command.
 */
export async function runPhase(
  ctx: RunContext,
  driver: Driver,
  phase: Phase,
  target: number,
  rows: VersionRow[],
  finishing: boolean,
  onProgress: (e: ProgressEvent) => void,
  /** Steps whose statements depend on who ran an earlier phase (a contract after the other tool's expand). */
  adjust: (steps: Step[], top: number) => Promise<Step[]> = async (steps) => steps,
): Promise<StepResult[]> {
  const state = rollingState(ctx.manifest, rows);
  if (finishing) throw otherToolRollingError(ctx);
  checkOrder(ctx, phase, state, rows);
  const steps = plannedSteps(ctx, driver.dialect, rows, phase, target);
  return runSteps(ctx, driver, await adjust(steps, state.top ?? target), onProgress);
}
