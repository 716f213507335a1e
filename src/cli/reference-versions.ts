// docs/reference/version-line.md's table of versions, between its markers:
// each version of the manifest with the Glance Alembic revision(s) it equals
// and its legacy (sqlalchemy-migrate) number, from src/glance/revisions.ts. Part of the generated reference (./reference.ts).
import { isDataOnly, PHASES, type Migration, type Phase } from '../core/manifest/types.js';
import { DATA_MIGRATIONS, EXPAND_CHAIN, LAST_LEGACY_VERSION, REVISION_FOR_VERSION } from '../glance/revisions.js';
import { GENERATED_NOTE } from './reference-meta.js';

export const VERSION_LINE = { begin: '<!-- version-line: begin -->', end: '<!-- version-line: end -->' };

const code = (s: string) => `\`${s}\``;

/**
 * The revision cell of one version: its phases' revisions joined by " + "
 * (phased), a data migration "recorded as" its contract revision (data only),
 * "expand / contract" (rolling: expand with an expand revision), else the
 * contract revision alone.
 */
export function glanceRevisionCell(m: Migration): string {
  const v = m.version;
  const contract = REVISION_FOR_VERSION[v];
  if (!contract) return '-';
  const expand = EXPAND_CHAIN.find(([, n]) => n === v)?.[0];
  const migrate = DATA_MIGRATIONS.find(([, n]) => n === v)?.[0];
  if (isDataOnly(m) && migrate) return `data migration ${code(migrate)}, recorded as ${code(contract)}`;
  if (m.rolling === 'phased') {
    const byPhase: Record<Phase, string | undefined> = { expand, migrate, contract };
    const revs = PHASES.filter((p) => m.phases?.[p]).map((p) => byPhase[p]);
    if (revs.every((r) => r !== undefined)) return revs.map((r) => code(r!)).join(' + ');
  }
  if (m.rolling === 'expand' && expand) return `${code(expand)} / ${code(contract)}`;
  return code(contract);
}

/** migrate_version's number for the version, '-' past the last legacy one (Glance used Alembic from there). */
export const legacyCell = (version: number): string => (version <= LAST_LEGACY_VERSION ? String(version) : '-');

/** The table of versions, between the markers. */
export function versionLineTable(migrations: readonly Migration[]): string {
  return [
    VERSION_LINE.begin,
    `<!-- ${GENERATED_NOTE} from glance-db.yaml and src/glance/revisions.ts: edit those, not this table. -->`,
    '',
    '| version | name | Glance revision | legacy number |',
    '|---|---|---|---|',
    ...migrations.map((m) => `| ${m.version} | ${m.name} | ${glanceRevisionCell(m)} | ${legacyCell(m.version)} |`),
    VERSION_LINE.end,
  ].join('\n');
}
