// `plan`: exactly the SQL sync would run, version by version, for review or
// for a DBA to run by hand. The script form also records the version-table
// rows and Glance's alembic_version, so glance-db sees the result as applied.
import { UsageError } from '../platform/errors.js';
import { bookkeepingStatements } from '../glance/bookkeeping.js';
import type { Dialect } from '../dialects/index.js';
import type { RunContext } from '../core/run-context.js';
import { readMigrationFile, statementsOf } from '../core/files.js';
import { statusAndHistory, withExistingDatabase } from './status.js';
import { rollingJson, type Step } from '../core/phases.js';
import { syncSteps, type Plan, type PlannedPhase, type SyncSteps } from '../core/plan.js';
import { withRowsLeft } from '../core/rolling-order.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { adjustGlanceExpanded } from '../glance/continue.js';
import { adoptionPlan } from '../glance/adopt.js';
import { glanceFromSeen, readGlanceSeen } from '../glance/handback.js';
import { finishedInPlace } from './sync-apply.js';
import { rollingUpgradeLeft } from './sync-recorded.js';
import type { Finishing } from './sync-types.js';

export type { Plan, PlannedPhase, PlannedVersion, SyncSteps } from '../core/plan.js';

export interface PlanRequest {
  version?: number;
  /** Plan offline for this dialect instead of asking the database. */
  dialect?: Dialect;
  from?: number;
}

/**
 * What sync runs from the history `rows` up to `to` (core/plan.ts syncSteps), with the migrate-again steps that
 * have rows left: computed once, `plan` and `--dry-run` list it, sync applies it (src/app/sync.ts).
 */
export async function syncPlan(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  to: number,
  from?: number | null,
): Promise<SyncSteps> {
  const s = syncSteps(ctx, driver.dialect, rows, to, from);
  if (!s.rolling) return s;
  // 45's contract computed from the live schema after glance-manage's expand: listed as it runs.
  const steps = await adjustGlanceExpanded(
    driver,
    rows,
    await withRowsLeft(driver, s.rolling.steps),
    s.rolling.state.top!,
  );
  return { ...s, rolling: { ...s.rolling, steps } };
}

/** The steps from where the database is (or from --from, offline), and whether it has Glance's migrate_version. */
async function startingPoint(
  ctx: RunContext,
  req: PlanRequest,
  dialect: Dialect,
  to: number,
): Promise<{
  from: number | null;
  steps: SyncSteps;
  migrateVersion: boolean;
  rolling?: Plan['rolling'];
  finishing?: Finishing | null;
}> {
  const offline = (from: number | null) => ({
    from,
    steps: syncSteps(ctx, dialect, [], to, from),
    migrateVersion: false,
  });
  if (req.dialect || req.from !== undefined) return offline(req.from ?? null);
  return withExistingDatabase(ctx, async (driver) => {
    if (!driver) return offline(null);
    const { status: s, rows } = await statusAndHistory(ctx, driver);
    const migrateVersion = (await driver.listTables()).includes('migrate_version');
    const from = s?.version ?? null;
    // The history sync plans from once it recorded glance-manage's work; a database glance-manage alone built is
    // planned from its level (sync records its rows first).
    const history = s?.managedBy === 'glance-db' ? rows : [];
    if (!s?.rolling) {
      const finishing = await finishingOf(ctx, driver, s?.managedBy, history);
      return { from, steps: await syncPlan(ctx, driver, history, to, from), migrateVersion, finishing };
    }
    // The rolling upgrade is finished first (sync does the same); whole versions follow from where it goes.
    const steps = await syncPlan(ctx, driver, await driver.readHistory(), to);
    const phases = (steps.rolling?.steps ?? []).map(plannedPhase);
    return { from: s.rolling.top, steps, migrateVersion, rolling: { state: rollingJson(s.rolling), steps: phases } };
  });
}

/**
 * A rolling upgrade glance-manage left half way, which sync finishes in place (app/sync-place.ts adopt, or
 * sync-recorded.ts rollingUpgradeLeft): 45 computed from the live schema, versions its expand built only recorded.
 * null otherwise, or where sync would refuse (drift): plan then lists the files, as before.
 */
async function finishingOf(
  ctx: RunContext,
  driver: Driver,
  managedBy: 'glance-db' | 'glance-manage' | undefined,
  history: VersionRow[],
): Promise<Finishing | null> {
  const seen = await readGlanceSeen(driver).catch(() => null);
  if (!seen) return null;
  if (history.length > 0) return rollingUpgradeLeft(ctx, driver, history, seen).catch(() => null);
  if (managedBy !== 'glance-manage') return null;
  const g = await glanceFromSeen(driver, seen).catch(() => null);
  if (!g?.expandedTo) return null;
  return (await adoptionPlan(ctx, driver, g).catch(() => null))?.finish ?? null;
}

/** Why a version's statements are not its file's while sync finishes glance-manage's rolling upgrade. */
const FINISHED_IN_PLACE = {
  computed: "glance-manage's expand began Ocata's change; these statements finish it",
  adopted: "glance-manage's expand built this version, so sync records it and runs nothing",
};

/** A rolling step as a plan lists it (plan, and --dry-run of the phase commands): its SQL as text. */
export function plannedPhase(s: Step): PlannedPhase {
  return {
    version: s.mig.version,
    name: s.mig.name,
    phase: s.phase,
    file: s.file,
    checksum: s.checksum,
    batched: s.batched,
    statements: s.statements.map((t) => t.text),
    ...(s.computed ? { computed: s.computed } : {}),
  };
}

/** A planned phase step for review: what it runs (or that it only records), then its statements, each ending in `;`. */
export function plannedPhaseText(s: PlannedPhase): string {
  return [
    `\n-- ${s.phase} ${s.version} ${s.name}: ${s.file ? `${s.file} ${s.checksum}${s.batched ? ' (each statement again, in batches, until it changes no row)' : ''}` : 'nothing to run, recorded only'}`,
    ...(s.computed ? [`-- computed from the live schema: ${s.computed}`] : []),
    ...s.statements.map((t) => `${t};`),
  ].join('\n');
}

export async function plan(ctx: RunContext, req: PlanRequest): Promise<Plan> {
  const dialect = req.dialect ?? ctx.target.dialect;
  if (!ctx.manifest.dialects.includes(dialect)) throw new UsageError(`The manifest has no ${dialect} files.`);
  const all = ctx.manifest.migrations;
  const to = req.version ?? all[all.length - 1].version;
  for (const v of [to, req.from].filter((x) => x !== undefined)) {
    if (!all.some((m) => m.version === v))
      throw new UsageError(
        `${v} is not a version glance-db knows; known versions are ${all[0].version} to ${all[all.length - 1].version}.`,
      );
  }
  const { from, steps, migrateVersion, rolling, finishing } = await startingPoint(ctx, req, dialect, to);
  if (from !== null && to < from)
    throw new UsageError(`VERSION ${to} is below the starting version ${from}: glance-db plans no downgrades.`);
  const versions = steps.versions.map((m) => {
    const loaded = readMigrationFile(ctx.manifest, m, dialect);
    const base = {
      version: m.version,
      file: loaded.file,
      statements: statementsOf(loaded, dialect, m.version),
      after: bookkeepingStatements(m.version, dialect, migrateVersion),
    };
    // As sync runs it (sync-apply.ts finishInPlace) while it finishes glance-manage's rolling upgrade.
    const done = finishing ? finishedInPlace(base, finishing) : null;
    return {
      version: m.version,
      name: m.name,
      file: loaded.file,
      checksum: loaded.checksum,
      statements: (done?.statements ?? base.statements).map((s) => s.text),
      bookkeeping: done?.after ?? base.after,
      ...(done?.how ? { computed: FINISHED_IN_PLACE[done.how] } : {}),
    };
  });
  return { dialect, from, to, versions, migrateVersion, ...(rolling ? { rolling } : {}) };
}

/** Plain listing for review: the statements sync would send, each ending in `;`. */
export function planText(p: Plan): string {
  const head = `-- glance-db plan (${p.dialect}): from ${p.from ?? 'an empty database'} to version ${p.to}; ${p.versions.length} version(s)\n${p.rolling ? rollingText(p.rolling) : ''}`;
  const body = p.versions.map((v) =>
    [
      `\n-- Version ${v.version} ${v.name}: ${v.file} ${v.checksum}`,
      ...(v.computed
        ? [`-- ${v.statements.length ? 'computed from the live schema' : 'recorded only'}: ${v.computed}`]
        : []),
      ...v.statements.map((s) => `${s};`),
      ...v.bookkeeping.map((s) => `${s};`),
    ].join('\n'),
  );
  return `${head}${body.join('\n')}\n`;
}

/** The phases that finish a rolling upgrade under way, before any whole version. */
function rollingText(r: NonNullable<Plan['rolling']>): string {
  const steps = r.steps.map(plannedPhaseText);
  return `-- a rolling upgrade to ${r.state.to} is under way (next: ${r.state.next}); sync first finishes it with these phases:\n${steps.join('\n')}\n`;
}

export { planScript, serverNowSql } from '../core/script.js';
