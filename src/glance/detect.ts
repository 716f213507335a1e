// Recognises a database that Glance's own tool (glance-manage) built, from
// alembic_version or the legacy migrate_version, and says which glance-db
// version it is at. docs/glance-versions.md has the rules.
import { BeforeBaselineError, UnknownLegacyVersionError, UnknownRevisionError } from '../platform/errors.js';
import type { Driver } from '../core/driver/driver.js';
import { ALIASES, CONTRACT_CHAIN, EXPAND_CHAIN, LAST_LEGACY_VERSION, NEWEST_REVISION } from './revisions.js';

export interface GlanceManaged {
  /** Where the level came from, for messages: `alembic_version: wallaby_contract01`. */
  source: string;
  /** The version the contract branch (or legacy number) says. */
  version: number;
  /** Highest version whose expand steps are applied, when a rolling upgrade stopped half way. */
  expandedTo: number | null;
  /** The raw revisions or legacy number. */
  revisions: string[];
}

const contract = new Map(CONTRACT_CHAIN);
/** glance-db's first version (Liberty's migrate_version), from the contract chain. */
const BASELINE = CONTRACT_CHAIN[0][1];
const expand = new Map(EXPAND_CHAIN);

/** Tables every Glance database has since Liberty; enough to tell Glance's from someone else's. */
export const GLANCE_TABLES = ['images', 'image_properties', 'image_locations', 'image_members', 'image_tags'];

/** Maps alembic_version rows (one or two heads) to a version. */
export function fromAlembic(rows: string[]): GlanceManaged {
  const revs = rows.map((r) => ALIASES[r] ?? r);
  let version: number | null = null;
  let expandedTo: number | null = null;
  for (const rev of revs) {
    if (contract.has(rev)) version = Math.max(version ?? 0, contract.get(rev)!);
    else if (expand.has(rev)) expandedTo = Math.max(expandedTo ?? 0, expand.get(rev)!);
    else throw new UnknownRevisionError(rev, NEWEST_REVISION);
  }
  // A lone expand head: the contract branch is still at the branch point (mitaka02).
  version ??= 44;
  return {
    source: `alembic_version: ${rows.join(', ')}`,
    version,
    expandedTo: expandedTo !== null && expandedTo > version ? expandedTo : null,
    revisions: rows,
  };
}

/** Maps the legacy sqlalchemy-migrate number; 42 to 45 are glance-db's numbers too. */
export function fromMigrateVersion(n: number): GlanceManaged {
  if (n < BASELINE) throw new BeforeBaselineError(n, BASELINE);
  if (n > LAST_LEGACY_VERSION) throw new UnknownLegacyVersionError(n, LAST_LEGACY_VERSION);
  return { source: `migrate_version: ${n}`, version: n, expandedTo: null, revisions: [String(n)] };
}

/** Reads Glance's own bookkeeping; null when there is none. alembic_version wins over migrate_version. */
export async function detectGlanceManaged(driver: Driver, tables: string[]): Promise<GlanceManaged | null> {
  if (tables.includes('alembic_version')) {
    const rows = await driver.query('SELECT version_num FROM alembic_version ORDER BY version_num');
    if (rows.length > 0) return fromAlembic(rows.map((r) => String(r.version_num)));
  }
  if (tables.includes('migrate_version')) {
    const rows = await driver.query('SELECT version FROM migrate_version');
    if (rows.length > 0) return fromMigrateVersion(Number(rows[0].version));
  }
  return null;
}
