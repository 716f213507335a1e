// A database sync finds without any version row is placed under version control first: taken over from
// Glance's own bookkeeping (adopted), recorded as already at CURRENT_VERSION (baseline), or left empty for the
// versions to build; anything else is refused before anything is recorded.
import { GlanceDbError, SchemaDriftError, UsageError } from '../platform/errors.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { newVersionRow } from '../core/driver/version-table.js';
import { readVersions, type ReadVersion } from '../core/files.js';
import { parseNote } from '../core/drift.js';
import type { ProgressEvent } from '../core/progress.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { adoptionPlan, schemaDifferences, takeoverNote } from '../glance/adopt.js';
import { detectGlanceManaged, type GlanceManaged } from '../glance/detect.js';
import { describe, variantById } from '../glance/variants.js';
import { notUnder, unplacedError } from './sync-refusals.js';
import type { Finishing, SyncRequest } from './sync-types.js';

/** The version a request goes to: VERSION, else the newest. */
const targetOf = (ctx: RunContext, req: SyncRequest) =>
  req.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version;

/** A run placing the database under version control: the files read up to the target are recorded from. */
export interface Placing {
  ctx: RunContext;
  driver: Driver;
  req: SyncRequest;
  files: Map<number, ReadVersion>;
  onProgress: (e: ProgressEvent) => void;
}

export async function placeUnderVersionControl(p: Placing): Promise<'placed' | 'raced' | Finishing> {
  const { ctx, driver, req, files, onProgress } = p;
  const tables = (await driver.listTables()).filter((t) => t !== ctx.manifest.versionTable);
  // Tables are listed before the history is read again: a concurrent run's
  // tables and its version row commit together, so seeing the first means
  // seeing the second.
  if (tables.length > 0 && (await driver.readHistory()).length > 0) return 'raced';
  const glance = await detectGlanceManaged(driver, tables);
  if (glance) return adopt(p, glance);
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

async function adopt(p: Placing, glance: GlanceManaged): Promise<'placed' | 'raced' | Finishing> {
  const { ctx, driver, req, files, onProgress } = p;
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

function reportNote(note: string | null, onProgress: (e: ProgressEvent) => void): void {
  const n = parseNote(note);
  const v = n.variant ? variantById(n.variant) : undefined;
  if (v) onProgress({ type: 'variant', id: v.id, description: describe(v) });
  if (n.acceptedDrift) onProgress({ type: 'drift-accepted', differences: n.acceptedDrift });
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
      const at = { version: m.version, name: m.name, dialect: driver.dialect, checksum: loaded.checksum };
      const row = newVersionRow(ctx, { ...at, kind, statementsTotal: statements.length });
      return m.version === top && note ? { ...row, note } : row;
    });
}
