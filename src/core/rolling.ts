// Running a rolling upgrade's phases (engine/phases.ts plans them), under
// the migration lock that sync takes: `expand`, `migrate` and `contract`,
// sync finishing a rolling upgrade that is under way, and sync on a Galera
// node, which runs the versions that have phases through them so that the
// big data steps go in batches.
//
// An expand or contract step is one version's file for that phase, run as
// sync runs a version (one transaction where the database allows it,
// MySQL resumable statement by statement), its row moving on from the
// phase before. A migrate phase file is run in batches: each statement
// again and again, each run its own short transaction, until it changes no
// row; nothing but the data records how far it got, so a run killed at any
// point is continued by the next.
import type { Driver, VersionRow } from './driver/driver.js';
import { applyVersion, statementEvents, type PendingVersion } from './apply.js';
import { periodicWriteBack } from './write-back.js';
import { statementFailed } from './driver/failure.js';
import { newVersionRow } from './driver/version-table.js';
import { ConfigError, GlanceDbError, UsageError } from '../platform/errors.js';
import type { Phase } from './manifest/types.js';
import { describeDialect, type Dialect } from './driver/dialect.js';
import { suggest, type RunContext } from './run-context.js';
import { readMigrationFile } from './files.js';
import { summarize } from './history.js';
import {
  migrateAgain,
  nextPhase,
  rollingState,
  rowAfter,
  stepsOf,
  stepsOfVersion,
  type RollingState,
  type Step,
} from './phases.js';
import { resumePoint } from './resume.js';
import type { ProgressEvent } from './progress.js';

/** Exit 35: a phase asked for out of order (migrate or contract before expand, contract before migrate); nothing changed. */
export class RollingOrderError extends GlanceDbError {
  constructor(message: string, hint: string, fields: Record<string, unknown> = {}) {
    super('ROLLING_ORDER', `${message} Nothing was changed.`, { hint, fields });
  }
}

export interface StepResult {
  version: number;
  name: string;
  phase: Phase;
  ms: number;
  /** migrate phase files: rows the batches changed. */
  rows?: number;
  /** The version is complete after this step (its last phase). */
  complete: boolean;
  /** The step's `glance-db:report` counts, by name (null: the count failed), for information. */
  reports?: Record<string, number | null>;
}

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
      `Run ${suggest(ctx, 'expand')} first (on the first node, while the old glance-api keeps serving), then ${suggest(ctx, 'migrate')}, then ${suggest(ctx, 'contract')} once every glance-api runs the new release.`,
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
      `Run ${suggest(ctx, 'migrate')} first; contract after it, once every glance-api node runs the new release.`,
      { phase, next: 'migrate', versions: state.pending.migrate },
    );
  }
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

function withRow(rows: VersionRow[], row: VersionRow): VersionRow[] {
  return [...rows.filter((r) => r.version !== row.version), row].sort((a, b) => a.version - b.version);
}

/** The row a step writes, before its phase fields: the version's whole-file checksum identifies it, as for sync. */
function placeholderRow(ctx: RunContext, dialect: Dialect, s: Step, before?: VersionRow): VersionRow {
  const whole = readMigrationFile(ctx.manifest, s.mig, dialect);
  const at = { version: s.mig.version, name: s.mig.name, dialect, checksum: whole.checksum };
  return newVersionRow(ctx, { ...at, kind: before?.kind ?? 'applied', statementsTotal: 0, note: before?.note ?? null });
}

/**
 * Runs the steps in order. Each step first reads the version table again:
 * a step another run did meanwhile is skipped. Returns what ran.
 */
export async function runSteps(
  ctx: RunContext,
  driver: Driver,
  steps: Step[],
  onProgress: (e: ProgressEvent) => void,
): Promise<StepResult[]> {
  const out: StepResult[] = [];
  const hasMigrateVersion = steps.length > 0 && (await driver.listTables()).includes('migrate_version');
  let contractChecked = false;
  for (const step of steps) {
    const rows = await driver.readHistory();
    const before = rows.find((r) => r.version === step.mig.version);
    const { version, name } = step.mig;
    if (step.topUp) {
      const result = await migrateLeft(ctx, driver, step, onProgress);
      if (result) out.push(result);
      continue;
    }
    // Before the first contract step changes anything: no row may still need a migrate phase that already ran.
    if (step.phase === 'contract' && !contractChecked) {
      contractChecked = true;
      await refuseUnmigrated(ctx, driver, rows);
    }
    if (nextPhase(step.mig, before) !== step.phase) {
      onProgress({ type: 'phase-skipped', version, name, phase: step.phase });
      continue;
    }
    const reports = await countReports(driver, step);
    onProgress({ type: 'phase-start', version, name, phase: step.phase });
    const row = rowAfter(step, before, placeholderRow(ctx, driver.dialect, step, before));
    const started = performance.now();
    let moved: number | undefined;
    // Rows a migrate phase that already ran still has to do keep glance-manage's contract out (rowsLeftHoldBack).
    const heldFor = async () => rowsLeftHoldBack(ctx, driver, withRow(rows, row));
    if (step.batched) {
      moved = await runBatches(ctx, driver, step, onProgress);
      const done = await recordPhase(
        driver,
        ctx.manifest.versionTable,
        before!,
        { ...row, executionMs: Math.round(performance.now() - started) },
        ctx.rules.phaseBookkeeping(withRow(rows, row), driver.dialect, {
          hasLegacyTable: hasMigrateVersion,
          withCreate: false,
          manifest: ctx.manifest,
          rowsLeft: await heldFor(),
        }),
      );
      if (!done) {
        onProgress({ type: 'phase-skipped', version, name, phase: step.phase });
        continue;
      }
    } else {
      const p: PendingVersion = {
        version,
        name,
        file: step.file ?? step.mig.files[driver.dialect]!,
        statements: step.statements,
        row,
        resumeFrom: before?.status === 'failed' ? resumePoint(before, step.statements, step.file ?? '') : 0,
        after: ctx.rules.phaseBookkeeping(withRow(rows, row), driver.dialect, {
          hasLegacyTable: hasMigrateVersion,
          withCreate: true,
          manifest: ctx.manifest,
          rowsLeft: await heldFor(),
        }),
        ...(before && before.status !== 'failed' ? { replaces: before.status } : {}),
      };
      if ((await applyVersion(driver, p, statementEvents(version, name, onProgress))).outcome === 'already-applied') {
        onProgress({ type: 'phase-skipped', version, name, phase: step.phase });
        continue;
      }
    }
    const ms = Math.round(performance.now() - started);
    const counted = reports ? { reports: Object.fromEntries(reports.map((r) => [r.name, r.value])) } : {};
    out.push({
      version,
      name,
      phase: step.phase,
      ms,
      ...(moved !== undefined ? { rows: moved } : {}),
      complete: row.status === 'complete',
      ...counted,
    });
    onProgress({
      type: 'phase-done',
      version,
      name,
      phase: step.phase,
      ms,
      ...(moved !== undefined ? { rows: moved } : {}),
      ...(step.file === null ? { nothingToRun: true } : {}),
      ...(reports ? { reports } : {}),
    });
  }
  return out;
}

/** A step's `glance-db:report` counts (information only: a count that fails is null, and nothing stops). */
async function countReports(
  driver: Driver,
  step: Step,
): Promise<{ name: string; label: string; value: number | null }[] | null> {
  if (step.reports.length === 0) return null;
  const out = [];
  for (const r of step.reports) {
    const value = await driver.query(r.sql).then(
      (rows) => Number(Object.values(rows[0] ?? {})[0] ?? 0),
      (err) => {
        if (driver.stopsRun(err)) throw err;
        return null;
      },
    );
    out.push({ name: r.name, label: r.label, value });
  }
  return out;
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
 * Contract follows Glance's: while any row still needs a migrate phase
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
 * Issue 28: before glance-db writes an expand head to alembic_version (with
 * which glance-manage's check says "contract next" and its contract runs, as
 * zed's glance-manage knows no data migration of older releases), whether
 * rows still need a migrate phase that already ran. Then the expand head is
 * held back (glance/heads.ts glanceHeads, rowsLeft), so that glance-manage's
 * contract refuses instead of dropping images.is_public under images with no
 * visibility. Counts only when the heads would let glance-manage contract.
 */
export async function rowsLeftHoldBack(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<boolean> {
  if (!ctx.rules.letsOtherToolContract(rows, ctx.manifest, driver.dialect)) return false;
  return (await unmigratedRows(ctx, driver, rows)).length > 0;
}

/** A migrate-again step: its batches, if rows are left (the version's row stays as it is). */
async function migrateLeft(
  ctx: RunContext,
  driver: Driver,
  step: Step,
  onProgress: (e: ProgressEvent) => void,
): Promise<StepResult | null> {
  if ((await remainingRows(driver, step)) === 0) return null;
  const { version, name } = step.mig;
  onProgress({ type: 'phase-start', version, name, phase: 'migrate' });
  const started = performance.now();
  const rows = await runBatches(ctx, driver, step, onProgress);
  const ms = Math.round(performance.now() - started);
  onProgress({ type: 'phase-done', version, name, phase: 'migrate', ms, rows });
  return { version, name, phase: 'migrate', ms, rows, complete: false };
}

/**
 * A migrate phase file: every statement run again until it changes no row,
 * each run one short transaction (on Galera its own writeset, retried a
 * bounded number of times when it loses certification). Returns the rows
 * changed.
 */
async function runBatches(
  ctx: RunContext,
  driver: Driver,
  step: Step,
  onProgress: (e: ProgressEvent) => void,
): Promise<number> {
  const { version, name } = step.mig;
  const remaining = async () =>
    step.remaining ? Number(Object.values((await driver.query(step.remaining))[0] ?? {})[0] ?? 0) : null;
  const total = await remaining();
  const started = Date.now();
  let done = 0;
  const writeBack = periodicWriteBack(driver);
  const retryConflicts = describeDialect(driver.dialect).retryConflicts ?? (<T>(run: () => Promise<T>) => run());
  const p = { version, name, file: step.file!, statements: step.statements } as PendingVersion;
  try {
    for (const s of step.statements) {
      for (let batch = 1; ; batch++) {
        let n: number;
        try {
          n = await retryConflicts(() => driver.transaction((tx) => tx.run(s.text), { deferWriteBack: true }));
        } catch (err) {
          if (err instanceof GlanceDbError && !(err as { location?: unknown }).location) throw err;
          throw statementFailed(
            p,
            s,
            err,
            `That batch was rolled back; the batches before it stay committed, and ${suggest(ctx, 'migrate')} continues from there once the cause is fixed.`,
          );
        }
        done += n;
        onProgress({
          type: 'batch',
          version,
          name,
          statement: s.index + 1,
          statements: step.statements.length,
          batch,
          rows: n,
          done,
          total,
          ms: Date.now() - started,
        });
        await writeBack();
        if (n === 0) break;
      }
    }
  } finally {
    await driver.flush();
  }
  return done;
}

/**
 * A migrate phase's row and Glance's bookkeeping, in one transaction, only
 * if the row still says what it said before the batches (on PostgreSQL the
 * lock is per transaction: another run may have recorded it, or gone on).
 */
async function recordPhase(
  driver: Driver,
  table: string,
  before: VersionRow,
  row: VersionRow,
  bookkeeping: string[],
): Promise<boolean> {
  const mark = (i: number) => (describeDialect(driver.dialect).placeholders === '$n' ? `$${i}` : '?');
  const done = await driver.transaction(async (tx) => {
    const now = await tx.query(`SELECT status FROM ${table} WHERE version = ${mark(1)}`, [row.version]);
    if (String(now[0]?.status) !== before.status) return false;
    await tx.run(
      `UPDATE ${table} SET status = ${mark(1)}, statements_applied = ${mark(2)}, statements_total = ${mark(3)}, applied_at = ${mark(4)}, execution_ms = ${mark(5)}, tool_version = ${mark(6)}, phases = ${mark(7)}, run_by = ${mark(8)} WHERE version = ${mark(9)}`,
      [
        row.status,
        row.statementsApplied,
        row.statementsTotal,
        row.appliedAt,
        row.executionMs,
        row.toolVersion,
        row.added?.phases ?? null,
        row.added?.run_by ?? null,
        row.version,
      ],
    );
    for (const b of bookkeeping) await tx.run(b);
    return true;
  });
  await driver.flush();
  return done;
}

export function glanceRollingError(ctx: RunContext): RollingOrderError {
  return new RollingOrderError(
    `${ctx.target.display} holds a rolling upgrade that Glance's own tool began (alembic_version has an expand head), which glance-db finishes in one go rather than by phases.`,
    `Run ${suggest(ctx, 'sync')}: it finishes that rolling upgrade (after it, expand, migrate and contract work as usual).`,
  );
}

/**
 * A phase command runs its phase, refused out of order. (sync finishes a rolling upgrade under way through the
 * steps its plan lists, core/plan.ts syncSteps.) A rolling upgrade glance-manage left half way is finished by
 * sync alone (adopt.ts, `finishing`), not by a phase command.
 */
export async function runPhase(
  ctx: RunContext,
  driver: Driver,
  phase: Phase,
  target: number,
  rows: VersionRow[],
  finishing: boolean,
  onProgress: (e: ProgressEvent) => void,
  /** Steps whose statements depend on who ran an earlier phase (glance/continue.ts: 45's contract after glance-manage's expand). */
  adjust: (steps: Step[], top: number) => Promise<Step[]> = async (steps) => steps,
): Promise<StepResult[]> {
  const state = rollingState(ctx.manifest, rows);
  if (finishing) throw glanceRollingError(ctx);
  checkOrder(ctx, phase, state, rows);
  const steps = plannedSteps(ctx, driver.dialect, rows, phase, target);
  return runSteps(ctx, driver, await adjust(steps, state.top ?? target), onProgress);
}

/** sync VERSION below the version a rolling upgrade under way goes to: it cannot stop inside it. */
export function belowRollingTop(ctx: RunContext, target: number, state: RollingState): UsageError {
  return new UsageError(
    `A rolling upgrade to version ${state.top} is under way (${state.next} is next), so sync cannot stop at ${target}, below it. Nothing was changed.`,
    `Finish it: ${suggest(ctx, 'sync')} (or ${suggest(ctx, state.next ?? 'contract')} and the phases after it).`,
  );
}
