// What the version table says, checked against the manifest and the files on
// disk before anything runs.
import { ChecksumMismatchError, UnknownVersionError } from '../errors.js';
import type { VersionRow } from '../drivers/driver.js';
import type { Manifest } from '../manifest/types.js';
import type { Dialect } from '../url.js';
import { readMigrationFile } from './files.js';

export interface History {
  rows: VersionRow[];
  /** Highest version recorded as complete; null when nothing is recorded. */
  current: number | null;
}

export function summarize(rows: VersionRow[]): History {
  const complete = rows.filter((r) => r.status === 'complete');
  return { rows, current: complete.length ? Math.max(...complete.map((r) => r.version)) : null };
}

/**
 * Every recorded version must be in the manifest, and its file must still
 * have the checksum it was applied with. The first problem throws; nothing
 * has been changed at that point.
 */
export function verifyHistory(manifest: Manifest, rows: VersionRow[], dialect: Dialect): void {
  const known = new Map(manifest.migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const mig = known.get(row.version);
    if (!mig) {
      const newest = manifest.migrations[manifest.migrations.length - 1].version;
      throw new UnknownVersionError(
        `The database records version ${row.version} (${row.name}), which ${manifest.path} does not list; the newest version it knows is ${newest}.`,
        `The database was upgraded by a newer glance-db (${row.toolVersion}): use that release or a newer one. Nothing was changed.`,
      );
    }
    // A partly applied version (MySQL) is checked statement by statement when it resumes.
    if (row.status !== 'complete') continue;
    const file = readMigrationFile(manifest, mig, dialect);
    if (file.checksum !== row.checksum) {
      throw new ChecksumMismatchError(row.version, file.file, row.checksum, file.checksum);
    }
  }
}
