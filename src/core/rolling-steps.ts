// Running a rolling upgrade's steps (src/core/rolling.ts plans them and
// says which run): each step reads the version table again and runs its
// phase unless another run did it meanwhile.
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
import { GlanceDbError } from '../platform/errors.js';
import type { Phase } from './manifest/types.js';
import { describeDialect, type Dialect } from './driver/dialect.js';
import { suggest, type RunContext } from './run-context.js';
import { readMigrationFile } from './files.js';
import { nextPhase, rowAfter, type Step } from './phases.js';
import { resumePoint } from './resume.js';
import type { ProgressEvent } from './progress.js';
import { refuseUnmigrated, remainingRows, rowsLeftHoldBack } from './rolling-order.js';

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
    const result = await runStep(ctx, driver, step, rows, hasMigrateVersion, onProgress);
    if (result) out.push(result);
  }
  return out;
}

/** One step's phase, unless the version's row says it is not next (another run did it): null when skipped. */
async function runStep(
  ctx: RunContext,
  driver: Driver,
  step: Step,
  rows: VersionRow[],
  hasMigrateVersion: boolean,
  onProgress: (e: ProgressEvent) => void,
): Promise<StepResult | null> {
  const before = rows.find((r) => r.version === step.mig.version);
  const { version, name } = step.mig;
  const skipped = () => {
    onProgress({ type: 'phase-skipped', version, name, phase: step.phase });
    return null;
  };
  if (nextPhase(step.mig, before) !== step.phase) return skipped();
  const reports = await countReports(driver, step);
  onProgress({ type: 'phase-start', version, name, phase: step.phase });
  const row = rowAfter(step, before, placeholderRow(ctx, driver.dialect, step, before));
  const started = performance.now();
  const bookkeeping = phaseBookkeeping(ctx, driver, withRow(rows, row), hasMigrateVersion);
  let moved: number | undefined;
  if (step.batched) {
    moved = await runBatches(ctx, driver, step, onProgress);
    const executed = { ...row, executionMs: Math.round(performance.now() - started) };
    if (!(await recordPhase(driver, ctx.manifest.versionTable, before!, executed, await bookkeeping(false))))
      return skipped();
  } else if (!(await applyPhaseFile(ctx, driver, step, before, row, bookkeeping, onProgress))) return skipped();
  return stepDone(step, row, Math.round(performance.now() - started), moved, reports, onProgress);
}

/**
 * The other tool's bookkeeping after a phase, given the rows as the phase
 * leaves them. Rows a migrate phase that already ran still has to do keep
 * the other tool's contract out (rowsLeftHoldBack).
 */
function phaseBookkeeping(
  ctx: RunContext,
  driver: Driver,
  rowsAfter: VersionRow[],
  hasLegacyTable: boolean,
): (withCreate: boolean) => Promise<string[]> {
  return async (withCreate) =>
    ctx.rules.phaseBookkeeping(rowsAfter, driver.dialect, {
      hasLegacyTable,
      withCreate,
      manifest: ctx.manifest,
      rowsLeft: await rowsLeftHoldBack(ctx, driver, rowsAfter),
    });
}

/** An expand or contract phase file, run as sync runs a version (resumed where a failed run stopped): false if another run applied it meanwhile. */
async function applyPhaseFile(
  ctx: RunContext,
  driver: Driver,
  step: Step,
  before: VersionRow | undefined,
  row: VersionRow,
  bookkeeping: (withCreate: boolean) => Promise<string[]>,
  onProgress: (e: ProgressEvent) => void,
): Promise<boolean> {
  const { version, name } = step.mig;
  const p: PendingVersion = {
    version,
    name,
    file: step.file ?? step.mig.files[driver.dialect]!,
    statements: step.statements,
    row,
    resumeFrom: before?.status === 'failed' ? resumePoint(before, step.statements, step.file ?? '') : 0,
    after: await bookkeeping(true),
    ...(before && before.status !== 'failed' ? { replaces: before.status } : {}),
  };
  return (await applyVersion(driver, p, statementEvents(version, name, onProgress))).outcome !== 'already-applied';
}

/** What a step that ran reports: its result, and the phase-done event. */
function stepDone(
  step: Step,
  row: VersionRow,
  ms: number,
  moved: number | undefined,
  reports: { name: string; label: string; value: number | null }[] | null,
  onProgress: (e: ProgressEvent) => void,
): StepResult {
  const { version, name } = step.mig;
  const counted = reports ? { reports: Object.fromEntries(reports.map((r) => [r.name, r.value])) } : {};
  const result: StepResult = {
    version,
    name,
    phase: step.phase,
    ms,
    ...(moved !== undefined ? { rows: moved } : {}),
    complete: row.status === 'complete',
    ...counted,
  };
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
  return result;
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
 * A migrate phase's row and the other tool's bookkeeping, in one transaction, only
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

export function withRow(rows: VersionRow[], row: VersionRow): VersionRow[] {
  return [...rows.filter((r) => r.version !== row.version), row].sort((a, b) => a.version - b.version);
}

/** The row a step writes, before its phase fields: the version's whole-file checksum identifies it, as for sync. */
export function placeholderRow(ctx: RunContext, dialect: Dialect, s: Step, before?: VersionRow): VersionRow {
  const whole = readMigrationFile(ctx.manifest, s.mig, dialect);
  const at = { version: s.mig.version, name: s.mig.name, dialect, checksum: whole.checksum };
  return newVersionRow(ctx, { ...at, kind: before?.kind ?? 'applied', statementsTotal: 0, note: before?.note ?? null });
}
