// glance-db's phase commands continuing a rolling upgrade that glance-manage
// began (issue 28 items 3 and 5): after `glance-manage db expand`, glance-db
// `migrate` records glance-manage's expand (the versions it expanded, kind
// adopted, nothing run, a note saying so) and runs glance-db's own data
// migrations (Glance's zed knows only its release's: visibility is still
// NULL under every older image); `contract` then finishes it. Version 45's
// contract is computed from the live schema (glance/ocata.ts), as
// glance-manage's ocata_expand01 built it: no visibility triggers on SQLite,
// MySQL's under Glance's names, is_public nullable.
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { computedStatements } from '../core/driver/statement.js';
import { historyBasis, newVersionRow, replaceRowsStatements } from '../core/driver/version-table.js';
import { noteText, parseNote } from '../core/drift.js';
import { readMigrationFile } from '../core/files.js';
import { introspect } from '../core/introspect/index.js';
import { loadSnapshot } from '../core/introspect/snapshot.js';
import { rowAfter, stepFor, type Step } from '../core/phases.js';
import { otherToolRollingError, RollingOrderError } from '../core/rolling-order.js';
import type { Migration, Phase } from '../core/manifest/types.js';
import { summarize } from '../core/history.js';
import { suggest, type RunContext } from '../core/run-context.js';
import type { GlanceManaged } from './detect.js';
import { finishOcataResumed } from './ocata.js';
import { glanceFromSeen, historyMovedError, readGlanceSeen } from './handback.js';

/** The note's word for a version whose expand phase glance-manage ran. */
export const EXPANDED_BY = 'glance-manage';

/**
 * The rows that record glance-manage's expand phase: each version above its
 * contract level up to its expand level as its expand phase leaves it
 * (expanded, or complete for a version with nothing after expand), adopted,
 * nothing run.
 */
export function glanceExpandRows(ctx: RunContext, driver: Driver, g: GlanceManaged): VersionRow[] {
  const now = new Date().toISOString();
  return ctx.manifest.migrations
    .filter((m) => m.version > g.version && m.version <= g.expandedTo!)
    .map((mig) => {
      const step = stepFor(ctx.manifest, driver.dialect, mig, 'expand');
      const base: VersionRow = {
        ...adoptedRow(ctx, driver, mig, now),
        note: noteText({
          expandedBy: EXPANDED_BY,
          recorded: `${g.source}: glance-manage ran the expand phase up to version ${g.expandedTo} (its db expand); recorded by glance-db ${ctx.toolVersion ?? ''} on ${now}, nothing run for that phase`,
        }),
      };
      const row = rowAfter(step, undefined, base);
      // Adopted where glance-manage did all there is; applied where glance-db's own phases still run.
      return { ...row, statementsApplied: 0, kind: row.status === 'complete' ? 'adopted' : 'applied' };
    });
}

function adoptedRow(ctx: RunContext, driver: Driver, mig: Migration, now: string): VersionRow {
  const checksum = readMigrationFile(ctx.manifest, mig, driver.dialect).checksum;
  const at = { version: mig.version, name: mig.name, dialect: driver.dialect, checksum };
  return newVersionRow(ctx, { ...at, kind: 'adopted', statementsTotal: 0, appliedAt: now, note: null });
}

/**
 * The version table as glance-db migrate would record it on a rolling
 * upgrade glance-manage expanded (the take-over up to its contract level,
 * then its expand), for the read-only commands (verify) to judge the schema
 * as that rolling upgrade leaves it; the rows as they are otherwise.
 */
export async function withGlanceExpand(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<VersionRow[]> {
  const g = await glanceFromSeen(driver, await readGlanceSeen(driver)).catch(() => null);
  if (!g?.expandedTo) return rows;
  if (rows.length > 0 && (summarize(rows).current !== g.version || rows.some((r) => r.status !== 'complete')))
    return rows;
  const now = new Date().toISOString();
  const below = rows.length
    ? rows
    : ctx.manifest.migrations.filter((m) => m.version <= g.version).map((m) => adoptedRow(ctx, driver, m, now));
  return [...below, ...glanceExpandRows(ctx, driver, g)];
}

/**
 * A phase command on a rolling upgrade glance-manage expanded (sync's
 * `finishing`): migrate records that expand and goes on; expand and
 * contract are refused before anything is recorded, as is a finish that
 * sync began and that stopped half way (sync's to go on with).
 */
export async function continueGlanceExpand(
  ctx: RunContext,
  driver: Driver,
  phase: Phase,
  rows: VersionRow[],
): Promise<{ versions: number[]; line: string }> {
  const g = await glanceFromSeen(driver, await readGlanceSeen(driver));
  if (!g?.expandedTo || rows.some((r) => r.status !== 'complete')) throw otherToolRollingError(ctx);
  if (phase !== 'migrate') throw glanceExpandedOrderError(ctx, phase, g);
  const recorded = await recordGlanceExpand(ctx, driver, g, rows);
  if (!recorded) throw historyMovedError(ctx, phase);
  const versions = recorded.map((r) => r.version);
  return {
    versions,
    line: `${g.source}: glance-manage ran the expand phase up to version ${g.expandedTo}; versions ${versions[0]}-${versions[versions.length - 1]} recorded as expanded by it (nothing run)`,
  };
}

/** Records glance-manage's expand phase, unless the version table moved since `basis` was read (false). */
async function recordGlanceExpand(
  ctx: RunContext,
  driver: Driver,
  g: GlanceManaged,
  basis: VersionRow[],
): Promise<VersionRow[] | null> {
  const rows = glanceExpandRows(ctx, driver, g);
  await driver.ensureVersionTable();
  const ok = await driver.editHistory(replaceRowsStatements(ctx.manifest.versionTable, rows), historyBasis(basis));
  return ok ? rows : null;
}

/**
 * A phase command other than migrate on a rolling upgrade glance-manage
 * expanded: refused before anything is recorded (exit 35). migrate is the
 * next step (glance-db's data migrations), as db check says.
 */
export function glanceExpandedOrderError(ctx: RunContext, phase: Phase, g: GlanceManaged): RollingOrderError {
  const what = `glance-manage's own rolling upgrade expanded ${ctx.target.display} to version ${g.expandedTo} (${g.source})`;
  return new RollingOrderError(
    phase === 'expand'
      ? `${what}: there is nothing left to expand, and the data migrations have not run yet.`
      : `${what}, but the data migrations have not run yet (images with no visibility, and the other data steps up to ${g.expandedTo}), so contract would drop what they still read.`,
    `Run ${suggest(ctx, 'migrate')}: it records glance-manage's expand and runs glance-db's data migrations; then ${suggest(ctx, 'contract')} once every glance-api node runs the new release (or ${suggest(ctx, 'sync')}, which does both in one go).`,
    { phase, next: 'migrate' },
  );
}

/**
 * Version 45's contract step where glance-manage ran its expand: computed
 * from the live schema (the visibility triggers glance-db's file drops are
 * not there on SQLite; is_public is nullable), with the images table of
 * version `top`; resumed, the same statements as the run that stopped
 * (glance/ocata.ts finishOcataResumed). Other steps are returned as they are.
 */
export async function adjustGlanceExpanded(
  driver: Driver,
  rows: VersionRow[],
  steps: Step[],
  top: number,
): Promise<Step[]> {
  const row = rows.find((r) => r.version === 45);
  if (parseNote(row?.note).expandedBy !== EXPANDED_BY) return steps;
  if (!steps.some((s) => s.phase === 'contract' && s.mig.version === 45)) return steps;
  const live = await introspect(driver);
  // A contract that stopped half way (MySQL) is resumed over the statements that ran (core/resume.ts).
  const ran = row?.status === 'failed' ? (row.statementHashes ?? []).slice(0, row.statementsApplied) : [];
  const { statements } = finishOcataResumed(driver.dialect, live, loadSnapshot(driver.dialect, top), ran);
  const computed = `version 45's contract phase, computed from the live schema (not a line of ${steps.find((s) => s.phase === 'contract' && s.mig.version === 45)?.file})`;
  return steps.map((s) =>
    s.phase === 'contract' && s.mig.version === 45
      ? { ...s, statements: computedStatements(statements, computed), computed: GLANCE_EXPANDED_45 }
      : s,
  );
}

/** Why 45's contract is computed where glance-manage ran the expand phase: plan says so (PlannedPhase.computed). */
export const GLANCE_EXPANDED_45 =
  "glance-manage's expand built version 45's schema (not glance-db's expand file), so its contract is computed from what that expand made";
