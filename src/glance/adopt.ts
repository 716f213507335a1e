// Taking over a database that glance-manage built: check that its schema
// really is the one its version claims, or a form Glance itself produced (a
// known variant, schema/variants.json), then record the versions up to it
// as `adopted` (nothing run). A half-finished rolling upgrade, Ocata's
// included, is finished from where it stands.
import { isDataOnly } from '../core/manifest/types.js';
import { SchemaDriftError } from '../platform/errors.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { EXPAND_CHAIN } from '../glance/revisions.js';
import type { GlanceManaged } from '../glance/detect.js';
import { diffSchemas } from '../core/introspect/diff.js';
import { introspect } from '../core/introspect/index.js';
import { bookkeepingTables, loadSnapshot } from '../core/introspect/snapshot.js';
import { allowedBy, matchVariant, state } from '../glance/variants.js';
import { finishOcata, type OcataFinish } from '../glance/ocata.js';
import { noteText, refuseDependentDrift, schemaDifferences } from '../core/drift.js';
import { suggest, type RunContext } from '../core/run-context.js';

/** Differences between the live schema and the expected schema of a version (the engine's, src/core/drift.ts). */
export { schemaDifferences };

export interface AdoptionPlan {
  at: number;
  /** Versions recorded as adopted up front (nothing run). */
  adopted: number[];
  /** The note of the highest adopted row: the variant recognised, or the drift accepted. */
  note: string | null;
  /**
   * A rolling upgrade stopped half way: inside Ocata's visibility change,
   * version 45 is finished with statements45 (computed from the live schema)
   * instead of its file; later versions whose expand steps already ran are
   * recorded as adopted as they come (adoptInPlace).
   */
  finish: {
    statements45: string[] | null;
    note: string;
    adoptInPlace: number[];
    expandHead: string;
    expandedTo: number;
  } | null;
}

const DRIFT_HINT =
  'Bring the schema back to what Glance built (the differences name each change), or restore a backup, then run glance-db sync again. ' +
  'If these changes are meant to stay, glance-db sync --accept-drift takes the database over anyway and records them.';

/** The version the database is really at, and the versions to record as adopted. */
/** acceptDrift: false, or the version the run goes to (--accept-drift refuses what a version up to it depends on). */
export async function adoptionPlan(
  ctx: RunContext,
  driver: Driver,
  g: GlanceManaged,
  acceptDrift: number | false = false,
): Promise<AdoptionPlan> {
  const upTo = (v: number) => ctx.manifest.migrations.map((m) => m.version).filter((x) => x <= v);
  if (g.expandedTo === null) {
    const note = await takeoverNote(
      ctx,
      driver,
      g.version,
      acceptDrift,
      () =>
        `${g.source} says version ${g.version}, but the schema is not that version's, nor a form Glance is known to have produced (docs/variants.md): the database was changed by hand, so glance-db will not take it over. Nothing was changed.`,
    );
    return { at: g.version, adopted: upTo(g.version), note, finish: null };
  }
  return expandedPlan(ctx, driver, g, upTo);
}

/**
 * Checks the live schema against a version for a take-over: equal, a known
 * variant (returned as the note), drift accepted with --accept-drift (the
 * note lists it), or a refusal listing every difference.
 */
export async function takeoverNote(
  ctx: RunContext,
  driver: Driver,
  version: number,
  acceptDrift: number | false,
  message: () => string,
  hint = DRIFT_HINT,
): Promise<string | null> {
  const diff = await schemaDifferences(ctx, driver, version);
  if (diff.length === 0) return null;
  const variant = matchVariant(driver.dialect, diff);
  if (variant) return noteText({ variant: variant.id });
  if (acceptDrift === false) throw new SchemaDriftError(message(), diff, hint);
  // Nothing a version still to run (up to acceptDrift, the target) depends on.
  refuseDependentDrift(
    ctx,
    driver.dialect,
    version,
    acceptDrift,
    diff,
    await introspect(driver),
    suggest(ctx, 'sync --accept-drift'),
  );
  return noteText({
    acceptedDrift: diff,
    acceptedAt: `${new Date().toISOString()} (sync --accept-drift, at take-over)`,
  });
}

/**
 * A rolling upgrade stopped half way (whoever left it): expand steps ran up
 * to g.expandedTo, the contract branch is at g.version. The schema is
 * compared with the expanded version's, allowing only what the missing
 * contract steps explain (and a known variant). Versions up to the contract
 * head are adopted; later ones run in order: 45 (if Ocata's is among them)
 * with statements computed from the live schema, 46 and the data-only steps
 * from their files, and those whose schema the expand steps already built
 * are recorded as adopted as they come.
 */
async function expandedPlan(
  ctx: RunContext,
  driver: Driver,
  g: GlanceManaged,
  upTo: (v: number) => number[],
): Promise<AdoptionPlan> {
  const expandedTo = g.expandedTo!;
  const live = await introspect(driver);
  const target = loadSnapshot(driver.dialect, expandedTo);
  const diff = diffSchemas(target, live, { ignoreTables: bookkeepingTables(ctx.manifest.versionTable) });
  const explains = [
    ...(g.version < 45 ? [state('ocata-expanded')] : []),
    ...(g.version < 46 ? [state('artifacts-not-dropped')] : []),
  ];
  const rest = diff.filter((d) => !explains.some((st) => allowedBy(st, d)));
  const variant = matchVariant(driver.dialect, rest);
  const what =
    g.version < 45
      ? "through Ocata's visibility change (ocata_expand01 ran; ocata_migrate01 and the contract did not)"
      : `(expand steps up to version ${expandedTo}, contract at ${g.version})`;
  if (rest.length > 0 && !variant) {
    throw new SchemaDriftError(
      `${g.source}: a rolling upgrade stopped half way ${what}, and besides what that explains, the schema differs from version ${expandedTo}'s. Nothing was changed.`,
      rest,
      'Bring those differences back to what Glance built (or restore a backup), then run glance-db sync again: it finishes the rolling upgrade itself.',
    );
  }
  const variantNote = variant ? { variant: variant.id } : {};
  let finish: OcataFinish | null = null;
  if (g.version < 45) {
    if (!('visibility' in (live.tables.images?.columns ?? {}))) {
      throw new SchemaDriftError(
        `${g.source} says Ocata's expand step ran, but images has no visibility column. Nothing was changed.`,
        diff,
        'The bookkeeping does not match the schema: check alembic_version, or restore a backup.',
      );
    }
    finish = finishOcata(driver.dialect, live, target);
  }
  // Data-only versions (isDataOnly: a migrate step alone) and those whose whole change is a contract step (rolling: contract,
  // as 46: pike_contract01 drops the artifact tables) run from their files; no expand step built them.
  const fromFiles = ctx.manifest.migrations
    .filter((m) => isDataOnly(m) || m.rolling === 'contract')
    .map((m) => m.version);
  const inPlace = upTo(expandedTo).filter((v) => v > Math.max(45, g.version) && !fromFiles.includes(v));
  return {
    at: g.version,
    adopted: upTo(g.version),
    note: variant ? noteText(variantNote) : null,
    finish: {
      statements45: finish?.statements ?? null,
      adoptInPlace: inPlace,
      expandHead: g.revisions.find((r) => EXPAND_CHAIN.some(([rev]) => rev === r))!,
      expandedTo,
      note: noteText({
        finished: `rolling upgrade ${g.revisions.join(' + ')}`,
        ...(finish && !finish.fromIsPublic ? { isPublicWasGone: true } : {}),
        ...variantNote,
      }),
    },
  };
}

export function adoptedRows(rows: VersionRow[]): VersionRow[] {
  return rows.map((r) => ({ ...r, kind: 'adopted' as const }));
}
