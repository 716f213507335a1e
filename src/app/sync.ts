// The orchestrator: compare the version table with the manifest, then apply
// what is missing, one version per transaction, under the migration lock.
import {
  SchemaDriftError,
  DowngradeRefusedError,
  GlanceDbError,
  NotUnderVersionControlError,
  OutputError,
  UsageError,
} from '../platform/errors.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { createDriver } from '../dialects/create-driver.js';
import { applyVersion, statementEvents, type PendingVersion } from '../core/apply.js';
import type { Migration } from '../core/manifest/types.js';
import { readVersions, splitUnapplied, type ReadVersion } from '../core/files.js';
import { checkNoGaps, summarize, verifyHistory } from '../core/history.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { restoreSteps } from './restore.js';
import { backupTool, takeBackup } from './backup.js';
import { adoptionPlan, schemaDifferences, takeoverNote, type AdoptionPlan } from '../glance/adopt.js';
import { driftOf, parseNote, refuseDependentDrift, withAccepted } from '../core/drift.js';
import { introspect } from '../core/introspect/index.js';
import { describe, variantById } from '../glance/variants.js';
import { expectedSchema, NoExpectedSchemaError } from '../core/introspect/snapshot.js';
import { detectGlanceManaged, GLANCE_TABLES, type GlanceManaged } from '../glance/detect.js';
import { bookkeepingStatements, createAlembicVersionSql } from '../glance/bookkeeping.js';
import {
  ensureGlanceBookkeeping,
  glanceFromSeen,
  handbackPlan,
  readGlanceSeen,
  recordHandback,
  historyMovedError,
  type GlanceSeen,
} from '../glance/handback.js';
import { resumePoint } from '../core/resume.js';
import { adjustGlanceExpanded, continueGlanceExpand, glanceExpandedOrderError } from '../glance/continue.js';
import { preflightChecks } from '../core/preflight.js';
import type { Phase } from '../core/manifest/types.js';
import type { ProgressEvent } from '../core/progress.js';
import { rollingState, type RollingState } from '../core/phases.js';
import {
  checkOrder,
  rollingFirst,
  runSteps,
  syncsByPhases,
  unmigratedRows,
  versionSteps,
  type StepResult,
  type Unmigrated,
} from '../core/rolling.js';
import { reasonOf } from '../platform/output-place.js';

export interface SyncRequest {
  /** Target version; the newest in the manifest when absent. */
  version?: number;
  /** Record the database as already at this version (baseline) before upgrading. */
  currentVersion?: number;
  /** upgrade: refuse a database that is not under version control. */
  requireVersionControl: boolean;
  /** --backup: where to put a backup taken before anything changes. */
  backupDir?: string;
  /** --accept-drift: proceed despite schema differences, and record them in the version table's note. */
  acceptDrift?: boolean;
  /** expand, migrate or contract: only that phase of a rolling upgrade (engine/rolling.ts), instead of whole versions. */
  phase?: Phase;
  /**
   * The version is the default target (the installed Glance's schema, engine/goal.ts), not one asked for: a database
   * already past it is left as it is (nothing to do) instead of being refused as a downgrade.
   */
  defaultTarget?: boolean;
}

export type { ProgressEvent } from '../core/progress.js';

export interface SyncResult {
  from: number | null;
  to: number;
  applied: { version: number; name: string; ms: number }[];
  baselined: number[];
  /** Versions recorded from Glance's own bookkeeping in this run. */
  adopted: number[];
  upToDate: boolean;
  /** Rolling-upgrade phases run (phase commands, sync finishing a rolling upgrade, sync on Galera). */
  phases: StepResult[];
  /** Where the rolling upgrade stands after this run. */
  rolling: RollingState;
  /** The database's version after this run. */
  current: number | null;
  /** Phase commands: rows a migrate phase that already ran still has to do (they keep glance-manage's contract out). */
  unmigrated?: Unmigrated[];
}

export function findMigration(ctx: RunContext, version: number, what: string): Migration {
  const mig = ctx.manifest.migrations.find((m) => m.version === version);
  if (!mig) {
    const known = ctx.manifest.migrations.map((m) => m.version);
    throw new UsageError(
      `${what} ${version} is not a version glance-db knows; known versions are ${known[0]} to ${known[known.length - 1]}.`,
    );
  }
  return mig;
}

/** The version a request goes to: VERSION, else the newest. */
const targetOf = (ctx: RunContext, req: SyncRequest) =>
  req.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version;

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
  if (req.phase && rows.length === 0) {
    // On a rolling upgrade Glance's own tool began, expand and contract are refused before anything is recorded
    // (expand used to record the take-over first and then say "Nothing was changed").
    const glance = await detectGlanceManaged(driver, await driver.listTables()).catch(() => null);
    // migrate continues it (records glance-manage's expand, runs glance-db's data migrations); expand and contract refuse.
    if (glance?.expandedTo && req.phase !== 'migrate') throw glanceExpandedOrderError(ctx, req.phase, glance);
    else if (!glance?.expandedTo && req.phase !== 'expand')
      checkOrder(ctx, req.phase, rollingState(ctx.manifest, rows), rows);
  }
  // On PostgreSQL the lock is per transaction, so a concurrent run may place
  // the database between our reads: then its rows are read and checked as
  // any other history.
  const placed = rows.length === 0 ? await placeUnderVersionControl(ctx, driver, req, files, onProgress) : null;
  const fresh = placed !== null && placed !== 'raced';
  let finishing = placed !== null && placed !== 'raced' && placed !== 'placed' ? placed : null;
  if (rows.length === 0) rows = await driver.readHistory();
  // What glance-manage did since glance-db's last run (its contract, its sync) is recorded, not replayed.
  // The tables and Alembic's heads, read once for the hand-back, the rolling upgrade left half way and, when nothing
  // ran, Glance's bookkeeping at the end (nothing in between writes them).
  let seen = fresh ? null : await readGlanceSeen(driver);
  let handback = seen ? await handbackPlan(ctx, driver, rows, seen) : null;
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
  if (!fresh) {
    verifyHistory(ctx.manifest, rows, driver.dialect, ctx.toolVersion);
    // A gap below the recorded level is reported, never filled by running old SQL.
    await checkNoGaps(ctx.manifest, driver, rows, ctx.rules, ctx.target.display, suggest(ctx, 'repair'));
    checkCurrentVersionAgrees(summarize(rows).current, req.currentVersion);
    // A version table made by an earlier release gets the columns added since (ALTER TABLE ADD COLUMN), before any row is written.
    await driver.ensureVersionTable();
    const at = summarize(rows).current;
    // A downgrade is refused as such, drift or not; past a default target there is simply nothing to do.
    if (at !== null && target < at && req.defaultTarget && !req.phase) {
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
    if (at !== null && target < at) throw downgradeError(ctx, at, target);
    finishing = await rollingUpgradeLeft(ctx, driver, rows, seen!);
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
  const recorded = (kind: VersionRow['kind']) =>
    fresh ? rows.filter((r) => r.kind === kind).map((r) => r.version) : [];
  const after = async (phases: StepResult[], changed = true) => {
    // Nothing ran (the deploy's no-op sync): the history read above is the answer, without reading it again.
    const now = changed ? await driver.readHistory() : rows;
    return { phases, rolling: rollingState(ctx.manifest, now), current: summarize(now).current };
  };
  // migrate or contract that glance-manage already ran: recorded above, nothing left for the phase.
  if (handback && (req.phase === 'migrate' || req.phase === 'contract') && !rollingState(ctx.manifest, rows).underWay) {
    return { from, to: target, applied: [], baselined: [], adopted: [], upToDate: true, ...(await after([])) };
  }
  const rolled = await rollingFirst(
    ctx,
    driver,
    req.phase,
    target,
    rows,
    finishing !== null,
    onProgress,
    (steps, top) => adjustGlanceExpanded(driver, rows, steps, top),
  );
  if (req.phase) {
    const now = await driver.readHistory();
    // Counted once: said in the result, and they hold alembic_version's expand head back (issue 28).
    const unmigrated = rollingState(ctx.manifest, now).underWay ? await unmigratedRows(ctx, driver, now) : [];
    await ensureGlanceBookkeeping(ctx, driver, now, unmigrated.length > 0);
    return {
      from,
      to: target,
      applied: [],
      baselined: recorded('baseline'),
      adopted: recorded('adopted'),
      upToDate: rolled.length === 0,
      ...(await after(rolled)),
      ...(unmigrated.length ? { unmigrated } : {}),
    };
  }
  if (rolled.length) rows = await driver.readHistory();
  const applied: SyncResult['applied'] = [];
  // For sync the unit is the version: one that its last phase completed is reported applied, as a whole version would be.
  const completed = (results: StepResult[]) => {
    for (const r of results.filter((x) => x.complete)) {
      const ms = results.filter((x) => x.version === r.version).reduce((t, x) => t + x.ms, 0);
      applied.push({ version: r.version, name: r.name, ms });
      onProgress({ type: 'applied', version: r.version, name: r.name, ms });
    }
  };
  completed(rolled);
  const done = new Set(rows.filter((r) => r.status === 'complete').map((r) => r.version));
  const pending = ctx.manifest.migrations.filter((m) => m.version <= target && !done.has(m.version));
  const hasMigrateVersion = pending.length > 0 && (await driver.listTables()).includes('migrate_version');
  // Every pending version is prepared (statements, resume point) before the first one runs.
  const ready = pending.map((mig) => {
    // A finishing step stopped half way (MySQL) is computed again from the live schema and run from its start: its statements are written to be rerun.
    const partial = finishing && mig.version === 45 ? undefined : rows.find((r) => r.version === mig.version);
    const p = pendingVersion(ctx, driver, mig, files.get(mig.version)!, partial, hasMigrateVersion);
    if (finishing) finishInPlace(p, finishing);
    return p;
  });
  // On a Galera node a version with phases runs through them: its data step in batches (issue 18).
  const byPhases = !finishing && ready.length > 0 && (await syncsByPhases(ctx, driver));
  // alembic_version is created (IF NOT EXISTS) by every version's bookkeeping; once a version of this run has
  // committed its bookkeeping the table is there, and the later versions skip that statement (a round trip each).
  const createAlembic = createAlembicVersionSql(driver.dialect);
  let alembicThere = false;
  for (const p of ready) {
    const steps = byPhases ? versionSteps(ctx, driver.dialect, p.version, await driver.readHistory()) : [];
    if (steps.length) {
      const results = await runSteps(ctx, driver, steps, onProgress);
      rolled.push(...results);
      completed(results);
      continue;
    }
    onProgress({ type: 'start', version: p.version, name: p.name });
    const creates = p.after.includes(createAlembic);
    if (alembicThere) p.after = p.after.filter((a) => a !== createAlembic);
    // Prepared before the first version ran: the time is when this one starts.
    const result = await applyVersion(
      driver,
      { ...p, row: { ...p.row, appliedAt: new Date().toISOString() } },
      statementEvents(p.version, p.name, onProgress),
    );
    // Applied, or found applied by a concurrent run: either way its bookkeeping committed.
    alembicThere ||= creates;
    if (result.outcome === 'applied') {
      applied.push({ version: p.version, name: p.name, ms: result.ms });
      onProgress({ type: 'applied', version: p.version, name: p.name, ms: result.ms });
    } else onProgress({ type: 'skipped', version: p.version, name: p.name });
  }
  const changed = ready.length > 0 || rolled.length > 0;
  // A baseline, a take-over or a run with nothing to run leaves Glance's bookkeeping where glance-manage expects it too.
  await ensureGlanceBookkeeping(
    ctx,
    driver,
    changed ? await driver.readHistory() : rows,
    undefined,
    changed ? undefined : (seen ?? undefined),
  );
  return {
    from,
    to: target,
    applied,
    baselined: recorded('baseline'),
    adopted: recorded('adopted'),
    upToDate: pending.length === 0 && rolled.length === 0,
    ...(await after(rolled, changed)),
  };
}

async function backupFirst(
  ctx: RunContext,
  driver: Driver,
  target: number,
  dir: string,
  tool: string | null,
  onProgress: (e: ProgressEvent) => void,
): Promise<void> {
  const tables = driver.exists() ? await driver.listTables() : [];
  if (tables.length === 0)
    return onProgress({ type: 'backup-skipped', reason: 'the database is empty, there is nothing to back up' });
  const history = summarize(await driver.readHistory());
  const partial = (await driver.readHistory()).some((r) => r.status !== 'complete');
  if (history.current !== null && history.current >= target && !partial)
    return onProgress({ type: 'backup-skipped', reason: `already at version ${history.current}, nothing will change` });
  onProgress({ type: 'backup-start' });
  // A database glance-manage built has no version rows yet: its backup is named after Glance's own level.
  const level = history.current ?? (await detectGlanceManaged(driver, tables).catch(() => null))?.version ?? null;
  let path: string;
  try {
    path = await takeBackup(ctx.target, dir, level, tool, ctx.env ?? {});
  } catch (err) {
    if (err instanceof GlanceDbError || !(err as NodeJS.ErrnoException)?.code) throw err;
    throw new OutputError(
      `Cannot write the backup in ${dir}: ${reasonOf(err)}. Nothing was changed.`,
      'Pass --backup-dir with a folder glance-db can create or write in.',
    );
  }
  onProgress({ type: 'backup', path });
}

function checkCurrentVersionAgrees(current: number | null, claimed: number | undefined): void {
  if (claimed === undefined || current === claimed) return;
  throw new UsageError(
    `CURRENT_VERSION ${claimed} contradicts the version table, which records version ${current}.`,
    'CURRENT_VERSION is only for a database that is not yet under version control; drop it.',
  );
}

async function placeUnderVersionControl(
  ctx: RunContext,
  driver: Driver,
  req: SyncRequest,
  files: Map<number, ReadVersion>,
  onProgress: (e: ProgressEvent) => void,
): Promise<'placed' | 'raced' | Finishing> {
  const tables = (await driver.listTables()).filter((t) => t !== ctx.manifest.versionTable);
  // Tables are listed before the history is read again: a concurrent run's
  // tables and its version row commit together, so seeing the first means
  // seeing the second.
  if (tables.length > 0 && (await driver.readHistory()).length > 0) return 'raced';
  const glance = await detectGlanceManaged(driver, tables);
  if (glance) return adopt(ctx, driver, glance, req, files, onProgress);
  if (req.requireVersionControl) throw notUnder(ctx, 'upgrade');
  if (tables.length > 0 && req.currentVersion === undefined) throw await unplacedError(ctx, driver, tables);
  // CURRENT_VERSION says what is already there: an empty database, or any
  // schema other than that version's (nor a known Glance variant), is
  // refused before anything is recorded.
  let note: string | null = null;
  if (req.currentVersion !== undefined && tables.length === 0) {
    // Nothing to accept with --accept-drift: a baseline over an empty database would fail at the next version, forever.
    const diff = await schemaDifferences(ctx, driver, req.currentVersion);
    if (diff.length > 0) {
      throw new SchemaDriftError(
        `The database is empty, so it is not at version ${req.currentVersion} (CURRENT_VERSION). Nothing was changed.`,
        diff,
        `CURRENT_VERSION is only for a database already built at that version; to build an empty database, drop it: ${suggest(ctx, `sync ${req.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version}`)}.`,
      );
    }
  } else if (req.currentVersion !== undefined) {
    const taken = await unlessRaced(driver, () =>
      takeoverNote(
        ctx,
        driver,
        req.currentVersion!,
        req.acceptDrift ? targetOf(ctx, req) : false,
        () =>
          `The database's schema is not that of version ${req.currentVersion} (CURRENT_VERSION), nor a form Glance is known to have produced. Nothing was changed.`,
        `Check CURRENT_VERSION: ${suggest(ctx, 'sync')} without it names the version the schema matches, if any. If the differences are meant to stay, add --accept-drift.`,
      ),
    );
    if (taken === 'raced') return 'raced';
    note = taken;
  }
  await driver.ensureVersionTable();
  if (req.currentVersion === undefined) return 'placed';
  const rows = recordedRows(
    ctx,
    driver,
    files,
    ctx.manifest.migrations.filter((m) => m.version <= req.currentVersion!).map((m) => m.version),
    'baseline',
    note,
  );
  if (!(await driver.recordRows(rows))) return 'raced';
  onProgress({ type: 'baseline', versions: rows.map((r) => r.version) });
  reportNote(note, onProgress);
  return 'placed';
}

async function adopt(
  ctx: RunContext,
  driver: Driver,
  glance: GlanceManaged,
  req: SyncRequest,
  files: Map<number, ReadVersion>,
  onProgress: (e: ProgressEvent) => void,
): Promise<'placed' | 'raced' | Finishing> {
  if (req.currentVersion !== undefined && req.currentVersion !== (glance.expandedTo ?? glance.version)) {
    throw new UsageError(
      `CURRENT_VERSION ${req.currentVersion} contradicts Glance's own bookkeeping (${glance.source}, version ${glance.version}).`,
      "Drop CURRENT_VERSION: glance-db reads the version from Glance's tables.",
    );
  }
  const plan = await unlessRaced(driver, () =>
    adoptionPlan(ctx, driver, glance, req.acceptDrift ? targetOf(ctx, req) : false),
  );
  if (plan === 'raced') return 'raced';
  await driver.ensureVersionTable();
  if (!(await driver.recordRows(recordedRows(ctx, driver, files, plan.adopted, 'adopted', plan.note)))) return 'raced';
  onProgress({ type: 'adopted', versions: plan.adopted, source: glance.source });
  reportNote(plan.note, onProgress);
  return plan.finish ?? 'placed';
}

type Finishing = NonNullable<AdoptionPlan['finish']>;

/**
 * The schema is compared outside the migration lock (PostgreSQL's lock is per
 * transaction): a concurrent run may record the database and apply versions
 * between our empty history and the comparison, which then sees its work as
 * drift ("unexpected enum type image_visibility"). A run records its rows
 * before it changes the schema, so a failed comparison with rows now in the
 * history means another run placed the database: go on as raced.
 */
async function unlessRaced<T>(driver: Driver, compare: () => Promise<T>): Promise<T | 'raced'> {
  try {
    return await compare();
  } catch (err) {
    if (err instanceof GlanceDbError && (await driver.readHistory().catch(() => [])).length > 0) return 'raced';
    throw err;
  }
}

/** A rolling upgrade stopped half way: 45 runs the statements that finish Ocata's change; versions whose expand ran are recorded as they come. */
function finishInPlace(p: PendingVersion, f: Finishing): void {
  // Until the last expanded version is recorded, alembic_version keeps the expand head too: a run stopped on the way is found and finished again.
  if (p.version < f.expandedTo && p.after.length > 0)
    p.after = [...p.after, `INSERT INTO alembic_version (version_num) VALUES ('${f.expandHead}')`];
  const stmt = (text: string, index: number) => ({ index, text, line: 1, column: 1, offset: 0 });
  if (p.version === 45 && f.statements45) {
    p.statements = f.statements45.map(stmt);
    p.row = { ...p.row, statementsApplied: p.statements.length, statementsTotal: p.statements.length, note: f.note };
  } else if (f.adoptInPlace.includes(p.version)) {
    // Built by the expand step already: recorded (and alembic_version moved on) without running anything.
    p.statements = [];
    p.row = { ...p.row, kind: 'adopted', statementsApplied: 0, note: f.note };
  }
}

/** A rolling upgrade that an earlier run began to finish and did not (alembic_version still has its expand head): go on finishing it. */
async function rollingUpgradeLeft(
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

function reportNote(note: string | null, onProgress: (e: ProgressEvent) => void): void {
  const n = parseNote(note);
  const v = n.variant ? variantById(n.variant) : undefined;
  if (v) onProgress({ type: 'variant', id: v.id, description: describe(v) });
  if (n.acceptedDrift) onProgress({ type: 'drift-accepted', differences: n.acceptedDrift });
}

/**
 * A database glance-db manages must have the schema its version says
 * (issue 14): a known Glance variant or differences accepted earlier pass;
 * anything else refuses, unless --accept-drift, which records it.
 */
async function refuseDrift(
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

/** A database with tables but no bookkeeping: name the version its schema matches, if any. */
export async function unplacedError(
  ctx: RunContext,
  driver: Driver,
  tables: string[],
): Promise<NotUnderVersionControlError> {
  const isGlance = GLANCE_TABLES.every((t) => tables.includes(t));
  let matches: number | null = null;
  if (isGlance) {
    // The lowest version with this schema: data-only versions share their predecessor's schema, and their data step must not be skipped.
    for (const m of ctx.manifest.migrations) {
      const diff = await schemaDifferences(ctx, driver, m.version).catch((err) => {
        if (err instanceof NoExpectedSchemaError) return null;
        throw err;
      });
      if (diff?.length === 0) {
        matches = m.version;
        break;
      }
    }
  }
  const what = isGlance
    ? matches !== null
      ? ` It holds Glance tables without any version table; their schema is exactly that of version ${matches}.`
      : ' It holds Glance tables without any version table, and their schema matches no version exactly.'
    : ` It already holds ${tables.length} table(s) (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}) that are not Glance's.`;
  const hint =
    matches !== null
      ? `If that is right, run: ${suggest(ctx, `sync ${ctx.goal?.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version} ${matches}`)} (records ${span(ctx, matches)} as applied, runs nothing up to it).`
      : `glance-db will not guess. If this is a Glance database, say its version: ${suggest(ctx, 'sync VERSION CURRENT_VERSION')}; otherwise point --url at an empty database.`;
  return new NotUnderVersionControlError(ctx.target.display, hint, what);
}

function recordedRows(
  ctx: RunContext,
  driver: Driver,
  files: Map<number, ReadVersion>,
  versions: number[],
  kind: VersionRow['kind'],
  note: string | null = null,
): VersionRow[] {
  const top = Math.max(...versions);
  return ctx.manifest.migrations
    .filter((m) => versions.includes(m.version))
    .map((m) => {
      // Adopting a database above the target (refused as a downgrade right after) reads those files here.
      const { loaded, statements } =
        files.get(m.version) ??
        readVersions({ ...ctx.manifest, migrations: [m] }, driver.dialect, m.version).get(m.version)!;
      const row = versionRow(ctx, driver, m, loaded.checksum, kind, 0, statements.length);
      return m.version === top && note ? { ...row, note } : row;
    });
}

function pendingVersion(
  ctx: RunContext,
  driver: Driver,
  mig: Migration,
  read: ReadVersion,
  partial: VersionRow | undefined,
  hasMigrateVersion: boolean,
): PendingVersion {
  const { loaded, statements } = read;
  const row = versionRow(ctx, driver, mig, loaded.checksum, 'applied', statements.length, statements.length);
  const resumeFrom = partial ? resumePoint(partial, statements, loaded.file) : 0;
  const after = bookkeepingStatements(mig.version, driver.dialect, hasMigrateVersion);
  return { version: mig.version, name: mig.name, file: loaded.file, statements, row, resumeFrom, after };
}

function versionRow(
  ctx: RunContext,
  driver: Driver,
  mig: Migration,
  checksum: string,
  kind: VersionRow['kind'],
  applied: number,
  total: number,
): VersionRow {
  return {
    version: mig.version,
    name: mig.name,
    dialect: driver.dialect,
    checksum,
    kind,
    status: 'complete',
    statementsApplied: applied,
    statementsTotal: total,
    statementHashes: null,
    error: null,
    appliedAt: new Date().toISOString(),
    executionMs: 0,
    toolVersion: ctx.toolVersion,
    added: { run_by: ctx.runBy },
  };
}

export function notUnder(ctx: RunContext, command: string): NotUnderVersionControlError {
  return new NotUnderVersionControlError(
    ctx.target.display,
    `Run ${suggest(ctx, 'sync')} first to put it under version control (${command} only works on a database glance-db manages).`,
  );
}

export function downgradeError(
  ctx: RunContext,
  from: number,
  to: number | undefined,
  backup?: string | null,
): DowngradeRefusedError {
  const steps = restoreSteps(ctx.target, suggest(ctx, 'version'), backup ?? undefined);
  const what =
    to === undefined
      ? 'Downgrades are not supported'
      : `Version ${to} is below the database's version ${from}: downgrades are not supported`;
  return new DowngradeRefusedError(
    `${what}, and nothing was changed. The only way back is to restore the backup taken before the upgrade.`,
    steps,
  );
}

/** "42-44": the range of versions from the first up to `to`. */
function span(ctx: RunContext, to: number): string {
  const first = ctx.manifest.migrations[0].version;
  return first === to ? `${to}` : `${first}-${to}`;
}
