// `check`, for orchestration: one state, one line, one exit code. Worst
// first: a database that is not what it claims matters more than one that
// is merely behind.
import { differenceOf } from '../core/introspect/diff.js';
import { ChecksumMismatchError, UnknownVersionError, type GlanceDbError } from '../platform/errors.js';
import { MigrationFileError } from '../platform/errors-files.js';
import { driftOf, rollingDriftOf } from '../core/drift.js';
import { detectGlanceManaged } from '../glance/detect.js';
import { handbackPlan, withHandback } from '../glance/handback.js';
import { NoExpectedSchemaError } from '../core/introspect/snapshot.js';
import { suggest, type RunContext } from '../core/run-context.js';
import type { Difference } from '../core/introspect/diff.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { historyGaps, summarize, verifyHistory } from '../core/history.js';
import { statusOf, withExistingDatabase } from './status.js';
import { unplacedError } from './sync-refusals.js';
import { describeRolling, rollingState, type RollingState } from '../core/phases.js';
import { migrateHeldBack } from '../glance/heads.js';
import type { GlanceManaged } from '../glance/detect.js';
import { goalText, installedText, resolveGoal, type Goal } from '../glance/goal.js';
import { unmigratedRows, type Unmigrated } from '../core/rolling-order.js';

export interface CheckResult {
  state:
    | 'current'
    | 'upgrade-pending'
    | 'checksum-drift'
    | 'not-under-version-control'
    | 'partly-applied'
    | 'schema-drift'
    | 'unknown-version'
    | 'history-gap'
    | 'migration-file-unusable';
  code: GlanceDbError['code'] | 'OK';
  line: string;
  current: number | null;
  /** The version check measures against: the target (engine/goal.ts), by default the installed Glance's, else the newest. */
  latest: number;
  differences?: Difference[];
  gaps?: number[];
  /** Where a rolling upgrade stands (underWay false when none is). */
  rolling?: RollingState;
  /** Glance's own bookkeeping, for a database glance-manage still manages. */
  glance?: GlanceManaged | null;
  /** Not under version control: the database holds no table at all. */
  empty?: boolean;
  /** A rolling upgrade whose migrate phases all ran: the rows they still have to do (written since), by version. */
  unmigrated?: Unmigrated[];
}

/**
 * The state for each refusal verifyHistory raises, by class: a recorded
 * version the manifest does not list, a file changed since it ran, a file
 * that cannot be read. Anything else is not a state of the database and is
 * thrown as the error it is.
 */
function historyState(err: unknown): CheckResult['state'] | null {
  if (err instanceof ChecksumMismatchError) return 'checksum-drift';
  if (err instanceof UnknownVersionError) return 'unknown-version';
  if (err instanceof MigrationFileError) return 'migration-file-unusable';
  return null;
}

/** A CheckResult for the version check measures against. */
type Out = (
  state: CheckResult['state'],
  code: CheckResult['code'],
  line: string,
  current: number | null,
  extra?: Partial<CheckResult>,
) => CheckResult;

export async function check(ctx: RunContext<Goal>): Promise<CheckResult> {
  const goal = ctx.goal ?? resolveGoal(ctx.manifest);
  const latest = goal.version;
  const out: Out = (state, code, line, current, extra = {}) => ({ state, code, line, current, latest, ...extra });
  return withExistingDatabase(ctx, async (driver) => {
    if (!driver)
      return out(
        'not-under-version-control',
        'NOT_UNDER_VERSION_CONTROL',
        `not under version control: ${ctx.target.display} does not exist`,
        null,
        { empty: true },
      );
    let rows = await driver.readHistory();
    if (rows.length === 0) return notPlaced(ctx, driver, out);
    // What glance-manage did since glance-db's last write (its contract, its sync) counts as done; the next write records it.
    const handback = await handbackPlan(ctx, driver, rows);
    if (handback) rows = withHandback(rows, handback);
    const told = handback
      ? `; ${handback.what}: ${suggest(ctx, 'repair')} records versions ${handback.span} (nothing to run)`
      : '';
    const current = summarize(rows).current;
    const wrong = await historyWrong(ctx, driver, rows, current, out);
    if (wrong) return wrong;
    const rolling = rollingState(ctx.manifest, rows);
    // A rolling upgrade (expand, migrate, contract) under way: behind, by design, until contract; its
    // schema is that of the version it goes to, with what the pending contract phases still remove.
    if (rolling.underWay) return rollingUnderWay(ctx, driver, rows, rolling, current, out);
    // A rolling upgrade that sync began to finish and was stopped (or told to stop) on the way: its expand head is still recorded.
    const glance =
      current === null ? null : await detectGlanceManaged(driver, await driver.listTables()).catch(() => null);
    if (glance && glance.expandedTo !== null && glance.version === current) {
      return out(
        'upgrade-pending',
        'UPGRADE_PENDING',
        `upgrade pending: at version ${current}, a rolling upgrade's expand steps reach ${glance.expandedTo} (${glance.source}); ${continueHint(ctx, 'finishes it')}`,
        current,
        { glance },
      );
    }
    return atVersion(
      ctx,
      driver,
      rows,
      current,
      goal,
      out,
      handback?.dropOrphans.length ? `${told}, and drops those triggers` : '',
      told,
    );
  });
}

/** No version rows: managed by glance-manage, tables without any bookkeeping, or nothing at all. */
async function notPlaced(ctx: RunContext, driver: Driver, out: Out): Promise<CheckResult> {
  const s = await statusOf(ctx, driver);
  const tables = await driver.listTables();
  // Tables without any bookkeeping: the same words as sync's refusal (the version the schema matches, the command that records it).
  const unplaced = !s && tables.length > 0 ? await unplacedError(ctx, driver, tables) : null;
  const g = s ? await detectGlanceManaged(driver, tables) : null;
  const why = s
    ? `managed by glance-manage at ${s.version} (${s.source})${g?.expandedTo ? `, its own rolling upgrade expanded to ${g.expandedTo}` : ''}; ${g?.expandedTo ? continueHint(ctx, 'takes it over and finishes it') : `${suggest(ctx, 'sync')} takes it over`}`
    : unplaced
      ? `no version table.${unplaced.message.split('version control.')[1] ?? ''} ${unplaced.hint ?? ''}`.trim()
      : 'no version table';
  return out(
    'not-under-version-control',
    'NOT_UNDER_VERSION_CONTROL',
    `not under version control: ${why}`,
    s?.version ?? null,
    { glance: g, ...(tables.length === 0 ? { empty: true } : {}) },
  );
}

/** The history itself wrong: against the files (verifyHistory's refusals), a gap, a version stopped half way. */
async function historyWrong(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  current: number | null,
  out: Out,
): Promise<CheckResult | null> {
  try {
    verifyHistory(ctx.manifest, rows, driver.dialect, ctx.toolVersion);
  } catch (err) {
    const state = historyState(err);
    if (state === null) throw err;
    return out(state, (err as GlanceDbError).code, `${state}: ${(err as GlanceDbError).message}`, current);
  }
  const gaps = await historyGaps(ctx.manifest, driver, rows, ctx.rules);
  if (gaps.length > 0)
    return out(
      'history-gap',
      'HISTORY_GAP',
      `history gap: no row for version${gaps.length > 1 ? 's' : ''} ${gaps.join(', ')} below the recorded level ${current}; ${suggest(ctx, 'repair --dry-run')} shows the way out`,
      current,
      { gaps },
    );
  const partial = rows.find((r) => r.status === 'failed');
  if (partial)
    return out(
      'partly-applied',
      'PARTLY_APPLIED',
      `partly applied: version ${partial.version} stopped after ${partial.statementsApplied} of ${partial.statementsTotal} statements; fix the cause and run ${suggest(ctx, 'sync')}`,
      current,
    );
  return null;
}

/** A rolling upgrade under way: drift against the schema it goes to, else pending, with what comes next. */
async function rollingUnderWay(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  rolling: RollingState,
  current: number | null,
  out: Out,
): Promise<CheckResult> {
  let unchecked = '';
  const drift = await rollingDriftOf(ctx, driver, rows).catch((err) => {
    if (!(err instanceof NoExpectedSchemaError)) throw err;
    unchecked = ` (schema not compared: no expected schema for version ${rolling.top})`;
    return null;
  });
  if (drift?.notCompared) unchecked = ` (schema not compared: ${drift.notCompared})`;
  else if (drift?.partly) unchecked = ` (${drift.partly})`;
  if (drift && drift.unexplained.length > 0) {
    return out(
      'schema-drift',
      'SCHEMA_DRIFT',
      `schema drift during the rolling upgrade to ${rolling.top}: ${drift.unexplained.length} difference(s); ${suggest(ctx, 'verify')} lists them`,
      current,
      { differences: drift.unexplained.map(differenceOf), rolling },
    );
  }
  // Rows written since a migrate phase ran that still need it: migrate is next (contract refuses), and
  // glance-manage's contract must not run either (issue 28).
  const unmigrated =
    rolling.pending.migrate.length === 0 && rolling.pending.expand.length === 0
      ? await unmigratedRows(ctx, driver, rows)
      : [];
  const next = unmigrated.length > 0 ? 'migrate' : rolling.next;
  const left = unmigrated.length
    ? `; ${unmigrated.reduce((t, x) => t + x.rows, 0)} row(s) written since migrate ran still need it (${unmigrated.map((x) => `version ${x.version} ${x.name}: ${x.rows}`).join('; ')})`
    : '';
  const held = await heldBack(ctx, driver, rows, rolling, unmigrated);
  return out(
    'upgrade-pending',
    'UPGRADE_PENDING',
    `upgrade pending: at version ${current}; ${describeRolling(rolling)}${left}; next: ${next ? suggest(ctx, next) : suggest(ctx, 'sync')}${unchecked}${held}`,
    current,
    { rolling, ...(unmigrated.length ? { unmigrated } : {}) },
  );
}

/** Glance's contract is held back (core/phases.ts migrateHeldBack): said, so that nobody hands the database to glance-manage here. */
async function heldBack(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  rolling: RollingState,
  unmigrated: Unmigrated[],
): Promise<string> {
  if (!migrateHeldBack(ctx.manifest, rows, driver.dialect, unmigrated.length > 0)) return '';
  const harm = (migrating: boolean) =>
    migrating && !unmigrated.some((x) => x.version === 45) && unmigrated.length > 0
      ? "end the rolling upgrade with those rows never migrated (its own migrate knows only its release's data migrations)"
      : migrating
        ? 'drop images.is_public under images with no visibility yet'
        : "leave glance-db's visibility triggers on a dropped is_public";
  const migrating = rolling.pending.migrate.length > 0 || unmigrated.length > 0;
  // alembic_version written before those rows came: it still lets glance-manage contract, until a glance-db write holds it back.
  const g = unmigrated.length ? await detectGlanceManaged(driver, await driver.listTables()).catch(() => null) : null;
  return g?.expandedTo
    ? `; alembic_version (${g.revisions.join(', ')}) still lets glance-manage contract, which would ${harm(true)}: run ${suggest(ctx, 'migrate')} before anything else (it finishes those rows), never glance-manage db contract now`
    : `; alembic_version keeps glance-manage from contracting until glance-db ${migrating ? 'migrate' : 'contract'} has run (its contract would ${harm(migrating)})`;
}

/**
 * At a recorded version, no rolling upgrade: drift, behind the target, or current. A form Glance itself produced,
 * or differences accepted with sync --accept-drift, is not drift; a version the site added without an expected
 * schema (glance-db snapshot makes one) is not compared. `toldDrift` and `told` say what a hand-back records.
 */
async function atVersion(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  current: number | null,
  goal: Goal,
  out: Out,
  toldDrift: string,
  told: string,
): Promise<CheckResult> {
  const latest = goal.version;
  let unchecked = '';
  const drift =
    current === null
      ? null
      : await driftOf(ctx, driver, current, rows).catch((err) => {
          if (!(err instanceof NoExpectedSchemaError)) throw err;
          unchecked = ` (schema not compared: no expected schema for version ${current})`;
          return null;
        });
  if (drift?.partly) unchecked = ` (${drift.partly})`;
  const differences = drift?.unexplained ?? [];
  if (differences.length > 0)
    return out(
      'schema-drift',
      'SCHEMA_DRIFT',
      `schema drift at version ${current}: ${differences.length} difference(s); ${suggest(ctx, 'verify')} lists them${toldDrift}`,
      current,
      { differences: differences.map(differenceOf) },
    );
  if (current !== null && current < latest)
    return out(
      'upgrade-pending',
      'UPGRADE_PENDING',
      `upgrade pending: at version ${current}, ${goalText(goal)} is available${unchecked}${told}`,
      current,
    );
  // Past the installed Glance (upgraded by hand, or Glance downgraded): its glance-manage cannot read the database; said, not an upgrade.
  const past =
    current !== null && goal.source === 'installed' && current > latest
      ? ` (past the installed Glance ${installedText(goal.installed!)}, whose schema is version ${latest}: its glance-manage cannot read this database)`
      : '';
  return out('current', 'OK', `current: at version ${current}${past}${unchecked}${told}`, current);
}

/** Glance's own expand, continued: glance-db's data migrations are next (glance/continue.ts), whatever glance-manage's check says. */
function continueHint(ctx: RunContext, sync: string): string {
  return `its data migrations have not run (glance-manage's check would offer its contract, which would drop images.is_public under images with no visibility yet): next ${suggest(ctx, 'migrate')}, which records that expand and runs glance-db's data migrations, then ${suggest(ctx, 'contract')}; or ${suggest(ctx, 'sync')} ${sync} in one go`;
}
