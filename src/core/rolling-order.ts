// Whether a rolling upgrade's phase may run now, refused before anything
// changes otherwise (exit 35; sync VERSION below the version a rolling
// upgrade goes to, a usage error): the order of the phases (expand, then
// migrate, then contract), and the rows a migrate phase that already ran
// still has to do, which keep contract (and the other tool's contract) out.
import type { Driver, VersionRow } from './driver/driver.js';
import { ConfigError, GlanceDbError, UsageError } from '../platform/errors.js';
import type { Phase } from './manifest/types.js';
import { suggest, type RunContext } from './run-context.js';
import { application } from './driver/application.js';
import { summarize } from './history.js';
import { migrateAgain, type RollingState, type Step } from './phases.js';

/** Exit 35: a phase asked for out of order (migrate or contract before expand, contract before migrate); nothing changed. */
export class RollingOrderError extends GlanceDbError {
  constructor(message: string, hint: string, fields: Record<string, unknown> = {}) {
    super('ROLLING_ORDER', `${message} Nothing was changed.`, { hint, fields });
  }
}

/**
 * Refuses a phase command asked out of order, before anything changes:
 * migrate and contract need the expand phase done up to the version the
 * rolling upgrade goes to; contract also needs every migrate done.
 */
export function checkOrder(ctx: RunContext, phase: Phase, state: RollingState, rows: VersionRow[]): void {
  if (phase === 'expand') return;
  // Measured against the target (engine/goal.ts): a zed host at 50 is not told about 51.
  const newest = ctx.goal?.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version;
  if (!state.underWay) {
    const current = summarize(rows).current;
    if (current !== null && current >= newest) return;
    throw new RollingOrderError(
      `No rolling upgrade is under way on ${ctx.target.display} (${current === null ? 'nothing recorded' : `at version ${current}`}, ${newest} is available), so there is nothing to ${phase}: a rolling upgrade starts with its expand phase.`,
      `Run ${suggest(ctx, 'expand')} first (on the first node, while the old ${application().server} keeps serving), then ${suggest(ctx, 'migrate')}, then ${suggest(ctx, 'contract')} once every ${application().server} runs the new release.`,
      { phase, next: 'expand' },
    );
  }
  if (state.pending.expand.length > 0) {
    throw new RollingOrderError(
      `The expand phase of the rolling upgrade to ${state.top} is not finished (version${state.pending.expand.length > 1 ? 's' : ''} ${state.pending.expand.join(', ')} still to expand), so ${phase} cannot run yet.`,
      `Run ${suggest(ctx, 'expand')} again: it finishes the expand phase (on MySQL it resumes where it stopped).`,
      { phase, next: 'expand', versions: state.pending.expand },
    );
  }
  if (phase === 'contract' && state.pending.migrate.length > 0) {
    throw new RollingOrderError(
      `The data migration of the rolling upgrade to ${state.top} is not done (version${state.pending.migrate.length > 1 ? 's' : ''} ${state.pending.migrate.join(', ')} still to migrate); contract would drop what it still reads, so it does not run before migrate.`,
      `Run ${suggest(ctx, 'migrate')} first; contract after it, once every ${application().server} node runs the new release.`,
      { phase, next: 'migrate', versions: state.pending.migrate },
    );
  }
}

/** Rows a migrate file's remaining query counts (the file's `glance-db:remaining` line). */
export async function remainingRows(driver: Driver, step: Step): Promise<number> {
  try {
    return Number(Object.values((await driver.query(step.remaining!))[0] ?? {})[0] ?? 0);
  } catch (err) {
    if (driver.stopsRun(err) || err instanceof GlanceDbError) throw err;
    throw new ConfigError(
      `The glance-db:remaining query of ${step.file} (version ${step.mig.version}) failed: ${(err as Error).message?.split('\n')[0]}. Nothing was changed.`,
      {
        hint: `Fix the query on the file's -- glance-db:remaining line (it counts the rows the migrate phase still has to change).`,
      },
    );
  }
}

/** The migrate-again steps that still have rows to do (none is run or listed otherwise). */
export async function withRowsLeft(driver: Driver, steps: Step[]): Promise<Step[]> {
  const out: Step[] = [];
  for (const s of steps) if (!s.topUp || (await remainingRows(driver, s)) > 0) out.push(s);
  return out;
}

/**
 * Contract follows the other tool's: while any row still needs a migrate phase
 * that already ran (its remaining query counts it), contract refuses,
 * with the counts and the command that finishes them, and changes nothing.
 * It never converts those rows itself.
 */
export async function refuseUnmigrated(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<void> {
  const left = await unmigratedRows(ctx, driver, rows);
  if (left.length === 0) return;
  const total = left.reduce((t, x) => t + x.rows, 0);
  throw new RollingOrderError(
    `${total} row(s) still need the migrate phase (${left.map((x) => `version ${x.version} ${x.name}: ${x.rows}`).join('; ')}), written or left since migrate ran, so contract does not run: ` +
      'it would have to give those rows values, and it never rewrites a value (docs/guide/rolling-upgrade.md, "Contract and visibility").',
    `Run ${suggest(ctx, 'migrate')}: it finishes those rows by the migrate rules and leaves every value already set; then ${suggest(ctx, 'contract')} again.`,
    { phase: 'contract', next: 'migrate', versions: left.map((x) => x.version), remaining: left },
  );
}

export interface Unmigrated {
  version: number;
  name: string;
  rows: number;
}

/**
 * The rows a migrate phase that already ran still has to do (written since
 * by a writer the compatibility triggers did not see, or restored by hand),
 * by version: its remaining query (`-- glance-db:remaining`), one count per
 * migrated version of the rolling upgrade under way.
 */
export async function unmigratedRows(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<Unmigrated[]> {
  const left: Unmigrated[] = [];
  if (rows.length === 0) return left;
  for (const step of migrateAgain(ctx.manifest, driver.dialect, rows, Math.max(...rows.map((r) => r.version)))) {
    const n = await remainingRows(driver, step);
    if (n > 0) left.push({ version: step.mig.version, name: step.mig.name, rows: n });
  }
  return left;
}

/**
 * Issue 28: before glance-db writes bookkeeping that lets the other tool
 * contract (ctx.rules.letsOtherToolContract: its check then says "contract
 * next" and its contract runs, knowing no data migration of older releases),
 * whether rows still need a migrate phase that already ran. Then that
 * bookkeeping is held back (rowsLeft), so that the other tool's contract
 * refuses instead of dropping a column the rows still need. Counts only when
 * the bookkeeping would let the other tool contract.
 */
export async function rowsLeftHoldBack(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<boolean> {
  if (!ctx.rules.letsOtherToolContract(rows, ctx.manifest, driver.dialect)) return false;
  return (await unmigratedRows(ctx, driver, rows)).length > 0;
}

export function otherToolRollingError(ctx: RunContext): RollingOrderError {
  return new RollingOrderError(
    `${ctx.target.display} holds a rolling upgrade that ${application().name}'s own tool began (alembic_version has an expand head), which glance-db finishes in one go rather than by phases.`,
    `Run ${suggest(ctx, 'sync')}: it finishes that rolling upgrade (after it, expand, migrate and contract work as usual).`,
  );
}

/** sync VERSION below the version a rolling upgrade under way goes to: it cannot stop inside it. */
export function belowRollingTop(ctx: RunContext, target: number, state: RollingState): UsageError {
  return new UsageError(
    `A rolling upgrade to version ${state.top} is under way (${state.next} is next), so sync cannot stop at ${target}, below it. Nothing was changed.`,
    `Finish it: ${suggest(ctx, 'sync')} (or ${suggest(ctx, state.next ?? 'contract')} and the phases after it).`,
  );
}
