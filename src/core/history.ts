// What the version table says, checked against the manifest and the files on
// disk before anything runs.
import { ChecksumMismatchError, HistoryGapError, UnknownVersionError } from '../platform/errors.js';
import type { Driver } from './driver/driver.js';
import type { VersionRow } from './driver/driver.js';
import { isDataOnly, PHASES, type Manifest, type Migration } from './manifest/types.js';
import { phaseRecord } from './phase-record.js';
import type { ProjectRules } from './rules.js';
import type { Dialect } from './driver/dialect.js';
import { readMigrationFile } from './files.js';
import { isSuperseded } from './superseded.js';

export interface History {
  rows: VersionRow[];
  /** Highest version recorded as complete; null when nothing is recorded. */
  current: number | null;
}

export function summarize(rows: VersionRow[]): History {
  // A version not complete (failed, or expanded/migrated by a rolling upgrade) holds the level below
  // it, however many later versions a rolling upgrade's expand phase already completed.
  const open = rows.filter((r) => r.status !== 'complete').map((r) => r.version);
  const below = open.length ? Math.min(...open) : Infinity;
  const complete = rows.filter((r) => r.status === 'complete' && r.version < below);
  return { rows, current: complete.length ? Math.max(...complete.map((r) => r.version)) : null };
}

/**
 * Every recorded version must be in the manifest, and its file must still
 * have the checksum it was applied with. The first problem throws; nothing
 * has been changed at that point.
 */
export function verifyHistory(manifest: Manifest, rows: VersionRow[], dialect: Dialect, toolVersion?: string): void {
  const known = new Map(manifest.migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const mig = known.get(row.version);
    if (!mig) {
      const newest = manifest.migrations[manifest.migrations.length - 1].version;
      throw new UnknownVersionError(
        `The database records version ${row.version} (${row.name}), which ${manifest.path} does not list; the newest version it knows is ${newest}.`,
        row.toolVersion === toolVersion
          ? `It was recorded by this glance-db release (${row.toolVersion}) with another manifest that lists it (a version your site added?): pass that manifest with --config. Nothing was changed.`
          : `The database was upgraded by another glance-db release (${row.toolVersion}; this one is ${toolVersion ?? 'unknown'}) or with another manifest: use that release or manifest. Nothing was changed.`,
      );
    }
    verifyPhases(manifest, mig, row, dialect);
    // A partly applied version (MySQL) is checked statement by statement when it resumes.
    if (row.status !== 'complete') continue;
    const file = readMigrationFile(manifest, mig, dialect);
    // A file a security fix superseded (sql/checksums.lock) still counts as the one that ran.
    if (
      file.checksum !== row.checksum &&
      !isSuperseded(manifest, { version: row.version, dialect }, row.checksum, file.checksum)
    ) {
      throw new ChecksumMismatchError(row.version, file.file, row.checksum, file.checksum);
    }
  }
}

/** The files a rolling upgrade ran for each phase of a version must still have the checksums recorded (the running one is checked per statement). */
function verifyPhases(manifest: Manifest, mig: Migration, row: VersionRow, dialect: Dialect): void {
  const record = phaseRecord(row);
  if (!record) return;
  const listed = PHASES.filter((p) => p in record);
  for (const phase of listed) {
    const recorded = record[phase];
    if (!recorded || (row.status === 'failed' && phase === listed[listed.length - 1])) continue;
    const ofPhase = mig.rolling === 'phased' ? phase : undefined;
    const file = readMigrationFile(manifest, mig, dialect, ofPhase);
    if (
      file.checksum !== recorded &&
      !isSuperseded(
        manifest,
        { version: row.version, dialect, ...(ofPhase ? { phase: ofPhase } : {}) },
        recorded,
        file.checksum,
      )
    ) {
      throw new ChecksumMismatchError(row.version, file.file, recorded, file.checksum);
    }
  }
}

/**
 * Versions below the recorded level without a complete row: a hole left by
 * hand. The one hole glance-db leaves itself is a data-only version (the
 * manifest's isDataOnly: a migrate step alone) that an adopted rolling upgrade skipped (every row
 * above it adopted, and the level the other tool's bookkeeping records,
 * rules.detect, still below it): that one sync runs.
 */
export async function historyGaps(
  manifest: Manifest,
  driver: Driver,
  rows: VersionRow[],
  rules: Pick<ProjectRules, 'detect'>,
): Promise<number[]> {
  const { current } = summarize(rows);
  if (current === null) return [];
  const complete = new Set(rows.filter((r) => r.status === 'complete').map((r) => r.version));
  const missing = manifest.migrations.map((m) => m.version).filter((v) => v < current && !complete.has(v));
  const dataOnly = new Set(manifest.migrations.filter(isDataOnly).map((m) => m.version));
  const maybeSkipped = missing.filter(
    (v) => dataOnly.has(v) && rows.filter((r) => r.version > v).every((r) => r.kind === 'adopted'),
  );
  if (maybeSkipped.length === 0) return missing;
  const other = await rules.detect(driver, await driver.listTables()).catch(() => null);
  return missing.filter((v) => !(maybeSkipped.includes(v) && other !== null && other.version < v));
}

export async function checkNoGaps(
  manifest: Manifest,
  driver: Driver,
  rows: VersionRow[],
  rules: Pick<ProjectRules, 'detect'>,
  database: string,
  repair?: string,
): Promise<void> {
  const gaps = await historyGaps(manifest, driver, rows, rules);
  if (gaps.length > 0) throw new HistoryGapError(database, gaps, summarize(rows).current!, repair);
}
