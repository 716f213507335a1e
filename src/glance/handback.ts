// Hand-back between glance-db and Glance's own tool (issue 28): one database,
// two tools, in any order. What glance-manage did on a database glance-db
// manages is read from the live schema and Alembic's heads, and recorded
// (kind adopted, nothing run, a note saying so) instead of replayed; and
// every glance-db write that keeps a database under control leaves
// alembic_version where glance-manage expects it.
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { historyBasis, newVersionRow, replaceRowsStatements } from '../core/driver/version-table.js';
import { GlanceDbError } from '../platform/errors.js';
import { detectGlanceManaged, fromAlembic, type GlanceManaged } from '../glance/detect.js';
import { diffSchemas } from '../core/introspect/diff.js';
import { introspect } from '../core/introspect/index.js';
import { bookkeepingTables, expectedSchema } from '../core/introspect/snapshot.js';
import type { RunContext } from '../core/run-context.js';
import { classify, noteText, parseNote } from '../core/drift.js';
import { readMigrationFile, statementsOf } from '../core/files.js';
import { summarize } from '../core/history.js';
import { glanceBookkeeping, glanceHeads } from './heads.js';
import { OCATA, orphanOcataTriggers } from './ocata-triggers.js';
import { rowsLeftHoldBack } from '../core/rolling-order.js';

/**
 * The tables and Alembic's heads as one read saw them: read once per run
 * and passed along (the hand-back plan, sync's check for a rolling upgrade
 * left half way, ensureGlanceBookkeeping), while nothing in between writes
 * Glance's bookkeeping or creates a table.
 */
export interface GlanceSeen {
  tables: string[];
  /** alembic_version's rows, sorted; empty without the table. */
  heads: string[];
}

export async function readGlanceSeen(driver: Driver): Promise<GlanceSeen> {
  const tables = await driver.listTables();
  const heads = tables.includes('alembic_version')
    ? (await driver.query('SELECT version_num FROM alembic_version ORDER BY version_num'))
        .map((r) => String(r.version_num))
        .sort()
    : [];
  return { tables, heads };
}

/** Glance's bookkeeping from what was seen (detectGlanceManaged without reading alembic_version again). */
export async function glanceFromSeen(driver: Driver, seen: GlanceSeen): Promise<GlanceManaged | null> {
  if (seen.heads.length > 0) return fromAlembic(seen.heads);
  return detectGlanceManaged(
    driver,
    seen.tables.filter((t) => t !== 'alembic_version'),
  );
}

export interface Handback {
  /** Glance's bookkeeping as the other tool left it. */
  glance: GlanceManaged;
  /** The level it reached, which the version table is brought to. */
  version: number;
  /** The rows written (replacing any row of the same version). */
  rows: VersionRow[];
  /** What the other tool did, for the operator: `alembic_version: wallaby_contract01: glance-manage ... the schema is version 50's`. */
  what: string;
  /** The versions recorded, "45-50". */
  span: string;
  /** Statements dropping glance-db's visibility triggers left on a dropped is_public (PostgreSQL), run with the record. */
  dropOrphans: string[];
}

/**
 * What glance-manage did beyond what the version table records: its
 * contract branch (alembic_version, no expand head) at a version above the
 * recorded level, every recorded row at or below it, and the live schema
 * that version's (or a known Glance variant of it, or differences accepted
 * earlier). Null otherwise: nothing to record, or a state no tool is known
 * to leave (check and sync then judge it as before).
 */
export async function handbackPlan(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  seen?: GlanceSeen,
): Promise<Handback | null> {
  if (rows.length === 0) return null;
  const saw = seen ?? (await readGlanceSeen(driver));
  if (!saw.tables.includes('alembic_version')) return null;
  const g = await glanceFromSeen(driver, saw).catch(() => null);
  if (!g || g.expandedTo !== null) return null;
  const { current } = summarize(rows);
  if (current !== null && g.version <= current) return null;
  if (rows.some((r) => r.version > g.version)) return null;
  if (!ctx.manifest.migrations.some((m) => m.version === g.version)) return null;
  const expected = expectedSchema(ctx.manifest, driver.dialect, g.version);
  if (!expected) return null;
  const diff = diffSchemas(expected, await introspect(driver), {
    ignoreTables: bookkeepingTables(ctx.manifest.versionTable),
  });
  // glance-db's visibility triggers that Glance's contract left on a dropped is_public (PostgreSQL, item 4 of issue 28):
  // the only difference allowed besides what classify explains; dropped with the record.
  const unexplained = diff.length > 0 ? classify(ctx.rules, driver.dialect, diff, rows).unexplained : [];
  const orphans =
    unexplained.length > 0 && g.version >= OCATA ? orphanOcataTriggers(ctx.manifest, driver.dialect) : null;
  const orphaned = orphans ? unexplained.filter((d) => orphans.differences.test(String(d))) : [];
  if (unexplained.length > orphaned.length) return null;
  const open = rows.filter((r) => r.status !== 'complete').map((r) => r.version);
  const versions = ctx.manifest.migrations
    .map((m) => m.version)
    .filter((v) => v <= g.version && !rows.some((r) => r.version === v && r.status === 'complete'));
  const what =
    open.length > 0
      ? `finished the rolling upgrade glance-db began (versions ${open.join(', ')} were ${describeOpen(rows, open)})`
      : `upgraded the database from version ${current ?? 'none'}`;
  const recorded = `${g.source}: glance-manage ${what}, and the schema is version ${g.version}'s${orphaned.length ? ` but for glance-db's visibility triggers and functions, left on the is_public Glance's contract dropped (every INSERT into images fails on them; dropped when this is recorded)` : ''}`;
  const newRows = versions.map((v) => {
    const mig = ctx.manifest.migrations.find((m) => m.version === v)!;
    const loaded = readMigrationFile(ctx.manifest, mig, driver.dialect);
    const before = rows.find((r) => r.version === v);
    const keep = before ? parseNote(before.note) : {};
    return newVersionRow(ctx, {
      version: v,
      name: mig.name,
      dialect: driver.dialect,
      checksum: loaded.checksum,
      kind: 'adopted',
      statementsTotal: statementsOf(loaded, driver.dialect, v).length,
      note: noteText({
        ...keep,
        recorded: `${recorded}; recorded by glance-db ${ctx.toolVersion ?? ''} on ${new Date().toISOString()}, nothing run`,
      }),
      // What glance-db's own phases ran before the hand-back stays in the history.
      added: before?.added?.phases ? { phases: before.added.phases } : {},
    });
  });
  return {
    glance: g,
    version: g.version,
    rows: newRows,
    what: recorded,
    span: span(versions),
    dropOrphans: orphaned.length ? orphans!.drop : [],
  };
}

function describeOpen(rows: VersionRow[], open: number[]): string {
  const states = [...new Set(open.map((v) => rows.find((r) => r.version === v)!.status))];
  return states.join(' or ');
}

function span(vs: number[]): string {
  return vs.length === 1 ? `${vs[0]}` : `${vs[0]}-${vs[vs.length - 1]}`;
}

/** The version table as it reads once the plan is recorded (read-only commands answer from it). */
export function withHandback(rows: VersionRow[], plan: Handback | null): VersionRow[] {
  if (!plan) return rows;
  const replaced = new Set(plan.rows.map((r) => r.version));
  return [...rows.filter((r) => !replaced.has(r.version)), ...plan.rows].sort((a, b) => a.version - b.version);
}

/** The statements that record the plan (repair prints them with --dry-run). */
export function handbackStatements(ctx: RunContext, plan: Handback): { sql: string; params: unknown[] }[] {
  const table = ctx.manifest.versionTable;
  return [
    ...replaceRowsStatements(table, plan.rows),
    // Last, so that repair's actions keep their index (two statements a row).
    ...plan.dropOrphans.map((sql) => ({ sql, params: [] })),
  ];
}

/**
 * Records the plan, under the lock, unless the version table no longer
 * reads as `basis`, the rows the plan was made from (false: nothing
 * written). On PostgreSQL the lock is per transaction: a concurrent sync
 * may have recorded versions between this run's reads, and Alembic's heads
 * it wrote with them would otherwise read as glance-manage's work.
 */
export async function recordHandback(
  ctx: RunContext,
  driver: Driver,
  plan: Handback,
  basis: VersionRow[],
): Promise<boolean> {
  await driver.ensureVersionTable();
  return driver.editHistory(handbackStatements(ctx, plan), historyBasis(basis));
}

/** Another glance-db run kept recording versions while this one planned to record what glance-manage did (exit 8). */
export function historyMovedError(ctx: RunContext, command: string): GlanceDbError {
  return new GlanceDbError(
    'LOCKED',
    `The version table of ${ctx.target.display} changed while ${command} was about to record what glance-manage did: another glance-db run is recording versions. Nothing was changed by this run.`,
    { hint: `Wait for the other run to finish, then run glance-db check (and ${command} again, if it still says so).` },
  );
}

/**
 * Leaves alembic_version (and the legacy migrate_version) as glance-manage
 * expects it for what the version table records, where it says otherwise:
 * after a baseline, a take-over, a run with nothing to run. Never moves
 * Glance's bookkeeping back from a level it records beyond the version
 * table's (that is for handbackPlan, or a refusal). Returns whether it wrote.
 */
export async function ensureGlanceBookkeeping(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  counted?: boolean,
  seen?: GlanceSeen,
): Promise<boolean> {
  // Rows written since glance-db's migrate ran that still need it hold the expand head back (issue 28: glance-manage's
  // contract would drop is_public under them); `counted` when the caller counted them already.
  const rowsLeft = counted ?? (await rowsLeftHoldBack(ctx, driver, rows));
  const heads = glanceHeads(rows, ctx.manifest, driver.dialect, rowsLeft);
  if (!heads) return false;
  // What the caller saw this run, when nothing since wrote Glance's bookkeeping or created a table.
  const saw = seen ?? (await readGlanceSeen(driver));
  const tables = saw.tables;
  if (saw.heads.join(',') === [...heads].sort().join(',')) return false;
  const g = await glanceFromSeen(driver, saw).catch(() => undefined);
  // An Alembic revision glance-db does not know, or a level past the version table's: not ours to move back.
  if (g === undefined) return false;
  const { current } = summarize(rows);
  const top = Math.max(...rows.map((r) => r.version));
  if (g && current !== null && (g.version > current || (g.expandedTo ?? 0) > top)) return false;
  const statements = glanceBookkeeping(
    rows,
    driver.dialect,
    tables.includes('migrate_version'),
    true,
    ctx.manifest,
    rowsLeft,
  );
  await driver.transaction(async (tx) => {
    for (const s of statements) await tx.run(s);
  });
  await driver.flush();
  return true;
}
