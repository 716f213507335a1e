// Taking over a database that glance-manage built: check that its schema
// really is the one its version claims, then record the versions up to it
// as `adopted` (nothing run). A half-finished rolling upgrade whose expand
// steps already built later versions is finished from where it stands.
import { GlanceDbError } from '../errors.js';
import type { Driver, VersionRow } from '../drivers/driver.js';
import { DATA_ONLY_VERSIONS } from '../glance/revisions.js';
import type { GlanceManaged } from '../glance/detect.js';
import { diffSchemas } from '../introspect/diff.js';
import { introspect } from '../introspect/index.js';
import { bookkeepingTables, expectedSchema, NoExpectedSchemaError } from '../introspect/snapshot.js';
import type { RunContext } from './context.js';

export class SchemaDriftError extends GlanceDbError {
  constructor(message: string, readonly differences: string[], hint: string) {
    super('SCHEMA_DRIFT', `${message} Differences: ${differences.slice(0, 20).join('; ')}${differences.length > 20 ? `; and ${differences.length - 20} more` : ''}.`, { fields: { differences }, hint });
  }
}

/** Differences between the live schema and the expected schema of a version. */
export async function schemaDifferences(ctx: RunContext, driver: Driver, version: number): Promise<string[]> {
  const expected = expectedSchema(ctx.manifest, driver.dialect, version);
  if (!expected) throw new NoExpectedSchemaError(version, driver.dialect, ctx.manifest);
  const live = await introspect(driver);
  return diffSchemas(expected, live, { ignoreTables: bookkeepingTables(ctx.manifest.versionTable) });
}

/** The version the database is really at, and the versions to record as adopted. */
export async function adoptionPlan(ctx: RunContext, driver: Driver, g: GlanceManaged): Promise<{ at: number; adopted: number[] }> {
  const upTo = (v: number) => ctx.manifest.migrations.map((m) => m.version).filter((x) => x <= v);
  if (g.expandedTo === null) {
    const diff = await schemaDifferences(ctx, driver, g.version);
    if (diff.length > 0) {
      throw new SchemaDriftError(`${g.source} says version ${g.version}, but the schema is not that version's: the database was changed by hand, so glance-db will not take it over. Nothing was changed.`, diff,
        'Bring the schema back to what Glance built (the differences name each change), or restore a backup, then run glance-db sync again.');
    }
    return { at: g.version, adopted: upTo(g.version) };
  }
  if (g.version < 45 && g.expandedTo >= 45) {
    throw new SchemaDriftError(`${g.source}: a rolling upgrade stopped half way through Ocata's visibility change (the expand step ran, the data migration and contract did not). Nothing was changed.`, ['images.visibility added by ocata_expand01 while is_public is still present'],
      'Finish it with the Glance release that started it: glance-manage db migrate, then glance-manage db contract; then run glance-db sync.');
  }
  // Expand steps after Ocata add columns and tables whose contract steps are empty: the schema is the expanded version's.
  const diff = await schemaDifferences(ctx, driver, g.expandedTo);
  if (diff.length > 0) {
    throw new SchemaDriftError(`${g.source}: a rolling upgrade stopped half way, and the schema matches neither side. Nothing was changed.`, diff,
      'Finish the rolling upgrade with glance-manage (db migrate, db contract), then run glance-db sync.');
  }
  // Data-only steps between the two heads may not have run (glance-manage db migrate): leave them pending, they are idempotent.
  return { at: g.expandedTo, adopted: upTo(g.expandedTo).filter((v) => v <= g.version || !DATA_ONLY_VERSIONS.includes(v)) };
}

export function adoptedRows(rows: VersionRow[]): VersionRow[] {
  return rows.map((r) => ({ ...r, kind: 'adopted' as const }));
}
