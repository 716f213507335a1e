// The history sync finds, made right before anything runs: what glance-manage did since (recorded, not
// replayed), the history checked against the files, a rolling upgrade left half way, drift refused or accepted.
import { SchemaDriftError, UsageError } from '../platform/errors.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import type { Phase } from '../core/manifest/types.js';
import { checkNoGaps, summarize, verifyHistory } from '../core/history.js';
import { driftOf, parseNote, refuseDependentDrift, withAccepted } from '../core/drift.js';
import { introspect } from '../core/introspect/index.js';
import { expectedSchema } from '../core/introspect/snapshot.js';
import { rollingState } from '../core/phases.js';
import type { ProgressEvent } from '../core/progress.js';
import { checkOrder } from '../core/rolling-order.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { adoptionPlan } from '../glance/adopt.js';
import { detectGlanceManaged } from '../glance/detect.js';
import { glanceExpandedOrderError } from '../glance/continue.js';
import {
  glanceFromSeen,
  handbackPlan,
  historyMovedError,
  readGlanceSeen,
  recordHandback,
  type GlanceSeen,
  type Handback,
} from '../glance/handback.js';
import type { Finishing, SyncRequest } from './sync-types.js';

/**
 * A phase command on a database without version rows: on a rolling upgrade Glance's own tool began, expand and
 * contract are refused before anything is recorded (expand used to record the take-over first and then say
 * "Nothing was changed"); migrate continues it (records glance-manage's expand, runs glance-db's data migrations).
 */
export async function refusePhaseOrder(
  ctx: RunContext,
  driver: Driver,
  phase: Phase,
  rows: VersionRow[],
): Promise<void> {
  const glance = await detectGlanceManaged(driver, await driver.listTables()).catch(() => null);
  if (glance?.expandedTo && phase !== 'migrate') throw glanceExpandedOrderError(ctx, phase, glance);
  else if (!glance?.expandedTo && phase !== 'expand') checkOrder(ctx, phase, rollingState(ctx.manifest, rows), rows);
}

/**
 * What glance-manage did since glance-db's last run (its contract, its sync), recorded, not replayed. The tables
 * and Alembic's heads (seen) are read once for the hand-back, the rolling upgrade left half way and, when nothing
 * ran, Glance's bookkeeping at the end (nothing in between writes them).
 */
export async function recordHandbackFirst(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  onProgress: (e: ProgressEvent) => void,
): Promise<{ rows: VersionRow[]; seen: GlanceSeen; handback: Handback | null }> {
  let seen = await readGlanceSeen(driver);
  let handback = await handbackPlan(ctx, driver, rows, seen);
  // Recorded only if the version table still reads as planned; else (a concurrent sync recorded versions between
  // the reads, PostgreSQL) read again and plan again: what it recorded is its own work, not glance-manage's.
  for (let tries = 0; handback && !(await recordHandback(ctx, driver, handback, rows)); tries++) {
    if (tries === 5) throw historyMovedError(ctx, 'sync');
    rows = await driver.readHistory();
    seen = await readGlanceSeen(driver);
    handback = await handbackPlan(ctx, driver, rows, seen);
  }
  if (handback) {
    onProgress({
      type: 'recorded',
      versions: handback.rows.map((r) => r.version),
      line: `${handback.what}; versions ${handback.span} recorded as adopted (nothing run)`,
    });
    rows = await driver.readHistory();
  }
  return { rows, seen, handback };
}

/** The recorded history checked before anything is written: files, gaps, CURRENT_VERSION, the table's columns. */
export async function checkRecorded(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  req: SyncRequest,
): Promise<void> {
  verifyHistory(ctx.manifest, rows, driver.dialect, ctx.toolVersion);
  // A gap below the recorded level is reported, never filled by running old SQL.
  await checkNoGaps(ctx.manifest, driver, rows, ctx.rules, ctx.target.display, suggest(ctx, 'repair'));
  checkCurrentVersionAgrees(summarize(rows).current, req.currentVersion);
  // A version table made by an earlier release gets the columns added since (ALTER TABLE ADD COLUMN), before any row is written.
  await driver.ensureVersionTable();
}

function checkCurrentVersionAgrees(current: number | null, claimed: number | undefined): void {
  if (claimed === undefined || current === claimed) return;
  throw new UsageError(
    `CURRENT_VERSION ${claimed} contradicts the version table, which records version ${current}.`,
    'CURRENT_VERSION is only for a database that is not yet under version control; drop it.',
  );
}

/** A rolling upgrade that an earlier run began to finish and did not (alembic_version still has its expand head): go on finishing it. */
export async function rollingUpgradeLeft(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  seen: GlanceSeen,
): Promise<Finishing | null> {
  const current = summarize(rows).current;
  const finishingLeft = (r: VersionRow) =>
    r.status === 'complete' || (r.version === 45 && parseNote(r.note).finished !== undefined);
  if (current === null || !rows.every(finishingLeft)) return null;
  const glance = await glanceFromSeen(driver, seen).catch(() => null);
  if (!glance || glance.expandedTo === null || glance.version !== current) return null;
  return (await adoptionPlan(ctx, driver, glance)).finish;
}

/**
 * A database glance-db manages must have the schema its version says
 * (issue 14): a known Glance variant or differences accepted earlier pass;
 * anything else refuses, unless --accept-drift, which records it.
 */
export async function refuseDrift(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  req: SyncRequest,
  target: number,
  onProgress: (e: ProgressEvent) => void,
): Promise<VersionRow[]> {
  // A partly applied version (MySQL) is between two schemas: resuming it is the way on.
  if (rows.some((r) => r.status !== 'complete')) return rows;
  // On PostgreSQL the lock is per transaction: a concurrent run may commit a
  // version between our reads, so the history is read again around the look.
  for (let attempt = 0; ; attempt++) {
    const current = summarize(rows).current;
    // A version a site added has no expected schema here: nothing to compare with (verify says so).
    if (current === null || !expectedSchema(ctx.manifest, driver.dialect, current)) return rows;
    const drift = await driftOf(ctx, driver, current, rows);
    const again = await driver.readHistory();
    if (summarize(again).current !== current && attempt < 20) {
      rows = again;
      continue;
    }
    if (drift.unexplained.length === 0) return rows;
    if (!req.acceptDrift) {
      throw new SchemaDriftError(
        `The database is recorded at version ${current}, but its schema is not that version's: it was changed by hand. Nothing was changed.`,
        drift.unexplained,
        `Undo the changes (the differences name each one) or restore a backup, then run ${suggest(ctx, 'sync')} again; if they are meant to stay, run ${suggest(ctx, 'sync --accept-drift')}, which records them in the version table.`,
      );
    }
    // Nothing a version still to run depends on (issue 32.10): accepting it would leave that version failing half way.
    refuseDependentDrift(
      ctx,
      driver.dialect,
      current,
      target,
      drift.unexplained,
      await introspect(driver),
      suggest(ctx, 'sync --accept-drift'),
    );
    const row = again.find((r) => r.version === current)!;
    await driver.setNote(current, withAccepted(row.note, drift.unexplained, 'sync --accept-drift'));
    onProgress({ type: 'drift-accepted', differences: drift.unexplained });
    return driver.readHistory();
  }
}
