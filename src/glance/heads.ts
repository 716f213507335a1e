// What Glance's own bookkeeping (alembic_version, and the legacy
// migrate_version) must say while a rolling upgrade is under way and after
// it: the heads glance-manage would hold, and when its contract must not be
// offered. The engine runs these statements through the hooks of
// src/core/rules.ts (src/glance/rules.ts), in the transaction of each step.
import type { VersionRow } from '../core/driver/driver.js';
import type { Manifest } from '../core/manifest/types.js';
import type { Dialect } from '../core/driver/dialect.js';
import { summarize } from '../core/history.js';
import { rollingState } from '../core/phases.js';
import { createAlembicVersionSql } from './bookkeeping.js';
import { OCATA, ocataTriggersOutliveGlanceContract } from './ocata-triggers.js';
import { contractRevisionFor, EXPAND_CHAIN, expandRevisionFor, legacyNumber } from './revisions.js';
import { installedContractHead } from './installed.js';

/** The first Alembic revision of the expand branch that brings in version v's additions, else the one before. */
function expandRevisionUpTo(v: number): string | null {
  const upTo = EXPAND_CHAIN.filter(([, ver]) => ver <= v);
  if (upTo.length === 0) return null;
  const top = upTo[upTo.length - 1][1];
  return upTo.find(([, ver]) => ver === top)![0];
}

/**
 * The alembic_version rows Glance's own tool would hold for these rows:
 * during a rolling upgrade the expand head of the version it goes to and
 * the contract head of the current version (both, as `glance-manage db
 * expand` leaves them); otherwise the current version's revision alone.
 * null when a version has no Glance revision (a version a site added):
 * alembic_version is then left as it is.
 */
export function glanceHeads(
  rows: VersionRow[],
  manifest?: Manifest,
  dialect?: Dialect,
  rowsLeft = false,
): string[] | null {
  const { current } = summarize(rows);
  if (current === null) return null;
  // The installed Glance's own revisions where it has its own at that version (2023.1, 2023.2: 2023_1_contract01 at 50).
  const head = installedContractHead();
  const contract = contractRevisionFor(current, head);
  if (!contract) return null;
  if (!rows.some((r) => r.status !== 'complete')) return [contract];
  // Until glance-db's migrate phase has run, the expand head is held back
  // (issue 28 item 4): with it, glance-manage's check would offer its
  // contract (it knows only its own release's data migrations) and its
  // contract would drop images.is_public while older images still have no
  // visibility. Without it, glance-manage's contract and migrate refuse
  // ("cannot be run before database expansion").
  // The same while rows written since glance-db's migrate ran still need it
  // (rowsLeft, counted by the caller: src/core/rolling-order.ts rowsLeftHoldBack).
  if (rowsLeft || (manifest && migrateHeldBack(manifest, rows, dialect))) return [contract];
  const top = Math.max(...rows.map((r) => r.version));
  const expand = expandRevisionFor(top, head) ?? expandRevisionUpTo(top);
  if (!expand || EXPAND_CHAIN.find(([rev]) => rev === expand)![1] <= current) return [contract];
  // Below the first expand revision's version the contract head is an
  // ancestor of every expand revision (ocata_expand01 follows mitaka02), so
  // Alembic keeps the expand head alone; two rows there make glance-manage's
  // next `alembic upgrade` fail ("overlaps with other requested revisions").
  return current < EXPAND_CHAIN[0][1] ? [expand] : [expand, contract];
}

/**
 * Where Glance's contract must not be offered: a rolling upgrade whose
 * migrate phase has not run for every version that has one; and, where
 * glance-db's Ocata triggers outlive Glance's contract (PostgreSQL:
 * src/glance/ocata-triggers.ts), one whose Ocata contract (45) is pending:
 * glance-db's expand added compatibility triggers there that Glance's
 * ocata_contract01 does not drop, so after glance-manage's
 * `db sync` every INSERT into images would fail on the is_public its
 * contract dropped. rowsLeft: rows written since a migrate phase ran still
 * need it (src/core/rolling-order.ts unmigratedRows counts them).
 */
export function migrateHeldBack(manifest: Manifest, rows: VersionRow[], dialect?: Dialect, rowsLeft = false): boolean {
  const s = rollingState(manifest, rows);
  return (
    rowsLeft ||
    s.pending.migrate.length > 0 ||
    (dialect !== undefined && ocataTriggersOutliveGlanceContract(dialect) && s.pending.contract.includes(OCATA))
  );
}

/**
 * Whether glanceHeads would write an expand head for these rows, which lets
 * glance-manage contract: only then are the rows a migrate phase still has
 * to do worth counting (a query per migrated version) before writing.
 */
export function headsLetGlanceContract(rows: VersionRow[], manifest: Manifest, dialect: Dialect): boolean {
  const heads = glanceHeads(rows, manifest, dialect);
  return heads !== null && heads.some((h) => EXPAND_CHAIN.some(([rev]) => rev === h));
}

/** Statements that set alembic_version (and the legacy migrate_version) to glanceHeads(rows). */
export function glanceBookkeeping(
  rows: VersionRow[],
  dialect: Dialect,
  hasMigrateVersion: boolean,
  withCreate = true,
  manifest?: Manifest,
  rowsLeft = false,
): string[] {
  const heads = glanceHeads(rows, manifest, dialect, rowsLeft);
  if (!heads) return [];
  const out = [
    ...(withCreate ? [createAlembicVersionSql(dialect)] : []),
    'DELETE FROM alembic_version',
    ...heads.map((h) => `INSERT INTO alembic_version (version_num) VALUES ('${h}')`),
  ];
  if (hasMigrateVersion) out.push(`UPDATE migrate_version SET version = ${legacyNumber(summarize(rows).current!)}`);
  return out;
}
