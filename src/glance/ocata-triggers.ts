// Ocata's visibility triggers, and what Glance's own tool does with them on
// each dialect. Glance's ocata_expand01 creates two triggers on images where
// SQLAlchemy's engine is mysql (and nowhere else), and its ocata_contract01
// drops them there by name before it drops is_public. glance-db's 045 expand
// creates triggers of the same names on every dialect (MySQL's are Glance's
// text); its own contract drops them. Where glance-manage's contract runs
// over glance-db's expand instead, what becomes of them follows from the
// database: dropped by name where Glance made its own, gone with the table
// where dropping a column rebuilds it (SQLite), and otherwise left behind,
// naming the is_public the contract dropped (PostgreSQL).
import { describeDialect, type Dialect } from '../core/driver/dialect.js';
import { readMigrationFile, statementsOf } from '../core/files.js';
import type { Manifest } from '../core/manifest/types.js';
import { LAST_LEGACY_VERSION } from './revisions.js';

/** Ocata's contract (ocata_contract01): the version whose compatibility triggers glance-manage's contract may not know. */
export const OCATA = LAST_LEGACY_VERSION;

/** The triggers Glance's ocata_expand01 creates on images and its ocata_contract01 drops by name. */
const GLANCE_OCATA_TRIGGERS = ['insert_visibility', 'update_visibility'];

/**
 * Glance's Ocata migration makes (and drops) its triggers where SQLAlchemy's
 * engine is mysql: on the dialect whose URLs name mysql.
 */
function glanceMadeOcataTriggers(dialect: Dialect): boolean {
  return describeDialect(dialect).url.schemes.includes('mysql');
}

/** The triggers Glance's ocata_expand01 left on images here, which finishing Ocata drops first. */
export function glanceOcataTriggers(dialect: Dialect): string[] {
  return glanceMadeOcataTriggers(dialect) ? GLANCE_OCATA_TRIGGERS : [];
}

/**
 * glance-db's Ocata triggers outlive glance-manage's contract here: Glance
 * does not drop them by name, and dropping is_public leaves them in place.
 */
export function ocataTriggersOutliveGlanceContract(dialect: Dialect): boolean {
  return describeDialect(dialect).triggersSurviveDroppedColumn && !glanceMadeOcataTriggers(dialect);
}

/**
 * Where ocataTriggersOutliveGlanceContract: the schema differences those
 * triggers (and their functions) make once Glance's contract dropped
 * is_public under them (a glance-manage db sync over a glance-db expand
 * whose expand head an older glance-db wrote), and the statements that drop
 * them: glance-db's own 045 contract's DROP TRIGGER and DROP FUNCTION, made
 * IF EXISTS. Null elsewhere.
 */
export function orphanOcataTriggers(
  manifest: Manifest,
  dialect: Dialect,
): { differences: RegExp; drop: string[] } | null {
  if (!ocataTriggersOutliveGlanceContract(dialect)) return null;
  const mig = manifest.migrations.find((m) => m.version === OCATA);
  if (!mig) return null;
  const drops = statementsOf(readMigrationFile(manifest, mig, dialect, 'contract'), dialect, OCATA)
    .map((s) => /^DROP\s+(TRIGGER|FUNCTION)\s+(\w+)([\s\S]*)$/i.exec(s.text.trim()))
    .filter((m) => m !== null);
  if (drops.length === 0) return null;
  const names = (kind: string) =>
    drops.filter((m) => m[1].toUpperCase() === kind).map((m) => m[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const alternatives = [
    ...(names('FUNCTION').length ? [`unexpected function (${names('FUNCTION').join('|')})\\(\\)`] : []),
    ...(names('TRIGGER').length
      ? [`images: unexpected trigger (${names('TRIGGER').join('|')}) (BEFORE|AFTER) (INSERT|UPDATE)`]
      : []),
  ];
  return {
    differences: new RegExp(`^(${alternatives.join('|')}) \\(definition [0-9a-f]+\\)$`),
    drop: drops.map((m) => `DROP ${m[1].toUpperCase()} IF EXISTS ${m[2]}${m[3]}`),
  };
}
