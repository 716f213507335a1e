// `plan`: exactly the SQL sync would run, version by version, for review or
// for a DBA to run by hand. The script form also records the version-table
// rows and Glance's alembic_version, so glance-db sees the result as applied.
import { UsageError } from '../platform/errors.js';
import { bookkeepingStatements } from '../glance/bookkeeping.js';
import type { Dialect } from '../dialects/index.js';
import type { RunContext } from '../core/run-context.js';
import { readMigrationFile, statementsOf } from '../core/files.js';
import { statusOf, withExistingDatabase } from './status.js';
import { rollingJson, type Step } from '../core/phases.js';
import type { Plan, PlannedPhase } from '../core/plan.js';
import { plannedSteps } from '../core/rolling.js';
import { withRowsLeft } from '../core/rolling-order.js';

export type { Plan, PlannedPhase, PlannedVersion } from '../core/plan.js';

export interface PlanRequest {
  version?: number;
  /** Plan offline for this dialect instead of asking the database. */
  dialect?: Dialect;
  from?: number;
}

async function startingPoint(
  ctx: RunContext,
  req: PlanRequest,
): Promise<{ from: number | null; migrateVersion: boolean; rolling?: Plan['rolling'] }> {
  if (req.dialect || req.from !== undefined) return { from: req.from ?? null, migrateVersion: false };
  return withExistingDatabase(ctx, async (driver) => {
    if (!driver) return { from: null, migrateVersion: false };
    const s = await statusOf(ctx, driver);
    const migrateVersion = (await driver.listTables()).includes('migrate_version');
    if (!s?.rolling) return { from: s?.version ?? null, migrateVersion };
    // The rolling upgrade is finished first (sync does the same); whole versions follow from where it goes.
    const steps = (
      await withRowsLeft(
        driver,
        plannedSteps(ctx, driver.dialect, await driver.readHistory(), 'finish', s.rolling.top!),
      )
    ).map(plannedPhase);
    return { from: s.rolling.top, migrateVersion, rolling: { state: rollingJson(s.rolling), steps } };
  });
}

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
  };
}

/** A planned phase step for review: what it runs (or that it only records), then its statements, each ending in `;`. */
export function plannedPhaseText(s: PlannedPhase): string {
  return [
    `\n-- ${s.phase} ${s.version} ${s.name}: ${s.file ? `${s.file} ${s.checksum}${s.batched ? ' (each statement again, in batches, until it changes no row)' : ''}` : 'nothing to run, recorded only'}`,
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
  const { from, migrateVersion, rolling } = await startingPoint(ctx, req);
  if (from !== null && to < from)
    throw new UsageError(`VERSION ${to} is below the starting version ${from}: glance-db plans no downgrades.`);
  const versions = all
    .filter((m) => m.version <= to && (from === null || m.version > from))
    .map((m) => {
      const loaded = readMigrationFile(ctx.manifest, m, dialect);
      const statements = statementsOf(loaded, dialect, m.version).map((s) => s.text);
      return {
        version: m.version,
        name: m.name,
        file: loaded.file,
        checksum: loaded.checksum,
        statements,
        bookkeeping: bookkeepingStatements(m.version, dialect, migrateVersion),
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
