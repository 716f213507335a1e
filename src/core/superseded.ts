// Fixes to released files. A released file never changes, with one way
// out for a security fix: `glance-db lint --update --supersede VERSION`
// records in sql/checksums.lock that the file's new checksum supersedes the
// old one (a `superseded` line, covered by the sum line). A database that
// ran the old file recorded the old checksum (the row's checksum, or in
// `phases` for a rolling upgrade's phase file); the history checks accept it
// when the lock leads from it to the file on disk, and history says so.
// Databases that have not run the file yet run the fixed one.
//
// The lock is read only when a checksum differs, and a lock that is missing,
// unreadable or malformed supersedes nothing: the mismatch is then refused
// as before (exit 4), so the lock adds no new way for a command to fail.
import type { Manifest, Phase } from './manifest/types.js';
import { readLockFile, supersededTo, type Lock } from './checksums-lock.js';

/** Whether a database that ran the file with checksum `ran` is still valid now that the file has `now`, by a fix the lock records. */
export function isSuperseded(
  m: Manifest,
  file: { version: number; dialect: string; phase?: Phase },
  ran: string,
  now: string,
): boolean {
  if (ran === now) return false;
  let lock: Lock;
  try {
    lock = readLockFile(m);
  } catch {
    return false;
  }
  return supersededTo(lock, file, ran, now);
}
