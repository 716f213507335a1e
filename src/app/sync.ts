// The orchestrator: compare the version table with the manifest, then apply
// what is missing, one version per transaction, under the migration lock.
// A run reads top to bottom: check the request and read the files, open and
// lock, place the database under version control if it is not (sync-place.ts),
// make the recorded history right (sync-recorded.ts), then compute the plan
// once from that history (app/plan.ts syncPlan, what `plan` and --dry-run
// list) and apply it: the rolling-upgrade phases left, then the versions
// still to run (sync-apply.ts).
import { UsageError } from '../platform/errors.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { createDriver } from '../dialects/create-driver.js';
import { readVersions, splitUnapplied, type ReadVersion } from '../core/files.js';
import { summarize } from '../core/history.js';
import type { RunContext } from '../core/run-context.js';
import { backupTool } from './backup.js';
import { ensureGlanceBookkeeping, type GlanceSeen } from '../glance/handback.js';
import { adjustGlanceExpanded, continueGlanceExpand } from '../glance/continue.js';
import { preflightChecks } from '../core/preflight.js';
import type { ProgressEvent } from '../core/progress.js';
import { rollingState } from '../core/phases.js';
import { runPhase, syncsByPhases } from '../core/rolling.js';
import { belowRollingTop, unmigratedRows, type Unmigrated } from '../core/rolling-order.js';
import { runSteps, type StepResult } from '../core/rolling-steps.js';
import type { Migration } from '../core/manifest/types.js';
import { syncPlan } from './plan.js';
import { backupFirst } from './sync-backup.js';
import { placeUnderVersionControl } from './sync-place.js';
import {
  checkRecorded,
  recordHandbackFirst,
  refuseDrift,
  refusePhaseOrder,
  rollingUpgradeLeft,
} from './sync-recorded.js';
import { applyVersions } from './sync-apply.js';
import { downgradeError, findMigration, notUnder } from './sync-refusals.js';
import type { AppliedVersion, Finishing, SyncRequest, SyncResult } from './sync-types.js';

export type { ProgressEvent } from '../core/progress.js';
export type { SyncRequest, SyncResult } from './sync-types.js';

function checkRequest(ctx: RunContext, req: SyncRequest): number {
  const all = ctx.manifest.migrations;
  const target = req.version ?? all[all.length - 1].version;
  findMigration(ctx, target, 'VERSION');
  if (req.currentVersion !== undefined) {
    findMigration(ctx, req.currentVersion, 'CURRENT_VERSION');
    if (req.currentVersion > target) {
      throw new UsageError(
        `CURRENT_VERSION ${req.currentVersion} is above VERSION ${target}: that would be a downgrade, which glance-db does not do.`,
      );
    }
  }
  return target;
}

export async function sync(
  ctx: RunContext,
  req: SyncRequest,
  onProgress: (e: ProgressEvent) => void = () => {},
): Promise<SyncResult> {
  const target = checkRequest(ctx, req);
  // A missing dump tool is reported before anything is touched.
  const tool = req.backupDir ? backupTool(ctx.target, ctx.env ?? {}) : null;
  // Every file up to the target is read and checked before the database is touched; the files of the versions
  // this run may apply are split once the history says which (syncLocked, before it writes anything), all of
  // them here before a backup is taken.
  const files = readVersions(ctx.manifest, ctx.target.dialect, target, { splitWhenUsed: !req.backupDir });
  const driver = await (ctx.createDriver ?? createDriver)(ctx.driverConfig());
  try {
    onProgress({ type: 'opening' });
    await driver.open();
    if (req.requireVersionControl && !driver.exists()) throw notUnder(ctx, 'upgrade');
    await preflightChecks(
      ctx,
      driver,
      target,
      req.currentVersion,
      req.phase ?? ((await syncsByPhases(ctx, driver)) ? 'phases' : undefined),
    );
    onProgress({ type: 'locking' });
    await driver.lock();
    if (req.backupDir) await backupFirst(ctx, driver, target, req.backupDir, tool, onProgress);
    return await syncLocked(ctx, driver, req, target, files, onProgress);
  } finally {
    await driver.close();
  }
}

/** What the steps after the history is settled work with. */
interface Run {
  ctx: RunContext;
  driver: Driver;
  target: number;
  /** The database's version before anything runs. */
  from: number | null;
  /** Placed under version control by this run: its baseline and adopted rows are reported. */
  fresh: boolean;
  onProgress: (e: ProgressEvent) => void;
}

async function syncLocked(
  ctx: RunContext,
  driver: Driver,
  req: SyncRequest,
  target: number,
  files: Map<number, ReadVersion>,
  onProgress: (e: ProgressEvent) => void,
): Promise<SyncResult> {
  let rows = await driver.readHistory();
  splitUnapplied(files, rows);
  // migrate and contract never place a database under version control: they continue a rolling upgrade,
  // migrate also one Glance's own tool began (glance/continue.ts).
  if (req.phase && rows.length === 0) await refusePhaseOrder(ctx, driver, req.phase, rows);
  // On PostgreSQL the lock is per transaction, so a concurrent run may place
  // the database between our reads: then its rows are read and checked as
  // any other history.
  const placed = rows.length === 0 ? await placeUnderVersionControl({ ctx, driver, req, files, onProgress }) : null;
  const fresh = placed !== null && placed !== 'raced';
  let finishing = placed !== null && placed !== 'raced' && placed !== 'placed' ? placed : null;
  if (rows.length === 0) rows = await driver.readHistory();
  let seen: GlanceSeen | null = null;
  let handedBack = false;
  if (!fresh) {
    const back = await recordHandbackFirst(ctx, driver, rows, onProgress);
    ({ rows, seen } = back);
    handedBack = back.handback !== null;
    await checkRecorded(ctx, driver, rows, req);
    const at = summarize(rows).current;
    // A downgrade is refused as such, drift or not; past a default target there is simply nothing to do.
    if (at !== null && target < at && req.defaultTarget && !req.phase) return nothingToDo(ctx, at, rows);
    if (at !== null && target < at) throw downgradeError(ctx, at, target);
    finishing = await rollingUpgradeLeft(ctx, driver, rows, seen);
    if (!finishing) rows = await refuseDrift(ctx, driver, rows, req, target, onProgress);
  }
  // glance-manage's rolling upgrade continued by phases: its expand recorded, glance-db's migrate runs next (issue 28).
  if (finishing && req.phase) {
    const c = await continueGlanceExpand(ctx, driver, req.phase, rows);
    onProgress({ type: 'recorded', versions: c.versions, line: c.line });
    rows = await driver.readHistory();
    finishing = null;
  }
  const from = summarize(rows).current;
  if (from !== null && target < from) throw downgradeError(ctx, from, target);
  const run: Run = { ctx, driver, target, from, fresh, onProgress };
  // migrate or contract that glance-manage already ran: recorded above, nothing left for the phase.
  if (handedBack && (req.phase === 'migrate' || req.phase === 'contract') && !rollingState(ctx.manifest, rows).underWay)
    return result(run, rows, { applied: [], upToDate: true, phases: [] });
  if (req.phase) {
    const before = rows;
    const rolled = await runPhase(ctx, driver, req.phase, target, rows, finishing !== null, onProgress, (steps, top) =>
      adjustGlanceExpanded(driver, before, steps, top),
    );
    return phaseResult(run, rows, rolled);
  }
  return syncPlanned(run, rows, files, finishing, seen);
}

/**
 * sync, once the history is settled: the plan computed once from the rows read under the lock (the value `plan`
 * and `--dry-run` list, app/plan.ts syncPlan), then applied: the phases that finish a rolling upgrade under way,
 * then the whole versions.
 */
async function syncPlanned(
  run: Run,
  rows: VersionRow[],
  files: Map<number, ReadVersion>,
  finishing: Finishing | null,
  seen: GlanceSeen | null,
): Promise<SyncResult> {
  const { ctx, driver, target } = run;
  // Refused before anything is planned: a sync that would stop inside the rolling upgrade under way.
  const state = rollingState(ctx.manifest, rows);
  if (state.underWay && !finishing && target < state.top!) throw belowRollingTop(ctx, target, state);
  const planned = await syncPlan(ctx, driver, rows, target);
  // A rolling upgrade glance-manage left half way is finished in place instead (sync-apply.ts finishInPlace).
  const rolling = finishing ? undefined : planned.rolling;
  // 45's contract after glance-manage's expand is computed in the plan already (syncPlan): it runs as listed.
  const rolled = rolling ? await runSteps(ctx, driver, rolling.steps, run.onProgress) : [];
  if (rolled.length) rows = await driver.readHistory();
  return versionsResult(run, rows, planned.versions, files, finishing, rolled, seen);
}

/** A phase command (expand, migrate, contract): the phases ran, and where the rolling upgrade stands. */
async function phaseResult(run: Run, rows: VersionRow[], rolled: StepResult[]): Promise<SyncResult> {
  const { ctx, driver } = run;
  const now = await driver.readHistory();
  // Counted once: said in the result, and they hold alembic_version's expand head back (issue 28).
  const unmigrated = rollingState(ctx.manifest, now).underWay ? await unmigratedRows(ctx, driver, now) : [];
  await ensureGlanceBookkeeping(ctx, driver, now, unmigrated.length > 0);
  return result(run, rows, { applied: [], upToDate: rolled.length === 0, phases: rolled, unmigrated });
}

/** sync: the versions still to run applied, and Glance's bookkeeping left where glance-manage expects it. */
async function versionsResult(
  run: Run,
  rows: VersionRow[],
  versions: Migration[],
  files: Map<number, ReadVersion>,
  finishing: Finishing | null,
  rolled: StepResult[],
  seen: GlanceSeen | null,
): Promise<SyncResult> {
  const { ctx, driver } = run;
  const todo = { ctx, driver, versions, rows, files, finishing };
  const { applied, pending } = await applyVersions(todo, rolled, run.onProgress);
  const changed = pending > 0 || rolled.length > 0;
  // A baseline, a take-over or a run with nothing to run leaves Glance's bookkeeping where glance-manage expects it too.
  await ensureGlanceBookkeeping(
    ctx,
    driver,
    changed ? await driver.readHistory() : rows,
    undefined,
    changed ? undefined : (seen ?? undefined),
  );
  return result(run, rows, { applied, upToDate: pending === 0 && rolled.length === 0, phases: rolled, changed });
}

/**
 * The result: the versions this run recorded as baseline or adopted (when it placed the database), and where the
 * database stands after it. Nothing ran (the deploy's no-op sync): the history read before is the answer, without
 * reading it again.
 */
async function result(
  run: Run,
  rows: VersionRow[],
  r: {
    applied: AppliedVersion[];
    upToDate: boolean;
    phases: StepResult[];
    changed?: boolean;
    unmigrated?: Unmigrated[];
  },
): Promise<SyncResult> {
  const recorded = (kind: VersionRow['kind']) =>
    run.fresh ? rows.filter((x) => x.kind === kind).map((x) => x.version) : [];
  const now = (r.changed ?? true) ? await run.driver.readHistory() : rows;
  return {
    from: run.from,
    to: run.target,
    applied: r.applied,
    baselined: recorded('baseline'),
    adopted: recorded('adopted'),
    upToDate: r.upToDate,
    phases: r.phases,
    rolling: rollingState(run.ctx.manifest, now),
    current: summarize(now).current,
    ...(r.unmigrated?.length ? { unmigrated: r.unmigrated } : {}),
  };
}

/** Past a default target (the installed Glance's): nothing to do, the database left as it is. */
function nothingToDo(ctx: RunContext, at: number, rows: VersionRow[]): SyncResult {
  return {
    from: at,
    to: at,
    applied: [],
    baselined: [],
    adopted: [],
    upToDate: true,
    phases: [],
    rolling: rollingState(ctx.manifest, rows),
    current: at,
  };
}
