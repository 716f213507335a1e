// Replaces a file so that a crash at any moment leaves either the old or the
// new content, never a torn file: temp file in the same folder (same file
// system, so rename is atomic), fsync, rename, fsync the folder.
//
// The temporary file is created with O_CREAT|O_EXCL|O_NOFOLLOW under an
// unpredictable name, mode 0600 until it holds the whole content, then given
// the replaced file's owner, group and mode: nothing planted in the folder (a
// symbolic link to /etc/shadow, a file of the same name) is ever followed or
// written. Free space is checked before the first byte is written, and the
// temporary file is removed on every failure (disk full included).
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  renameSync,
  statfsSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileRefusedError, NoSpaceError } from './errors.js';
import { IO_CHUNK } from './read-whole.js';

export interface AtomicWriteHooks {
  /** Replaced in tests to fail between the temp write and the rename. */
  rename?: (from: string, to: string) => void;
  /** Bytes per write call; lowered in tests to write a small file in pieces. */
  maxWrite?: number;
  /** Replaced in tests: the temporary file's name (normally random). */
  tempPath?: (path: string) => string;
  /** Replaced in tests: free bytes on the folder's file system. */
  freeBytes?: (dir: string) => number;
}

/** Part of every temporary file's name: `.NAME.glance-db-RANDOM.tmp`. */
const TEMP_INFIX = '.glance-db-';

/** Room left free beyond the new file: the file system's own bookkeeping, and the rest of the host. */
export const SPACE_MARGIN = 1024 * 1024;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_INFIX}${randomBytes(12).toString('hex')}.tmp`);
}

/** Bytes an unprivileged writer may still use on dir's file system. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const size = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(2)} GiB` : `${(n / MiB).toFixed(1)} MiB`);

const isNoSpace = (err: unknown) => ['ENOSPC', 'EDQUOT'].includes((err as NodeJS.ErrnoException)?.code ?? '');

function noSpace(path: string, need: number, free: number | null): NoSpaceError {
  return new NoSpaceError(
    `Not enough free disk space to write ${path} back: it needs ${size(need)}${free === null ? '' : `, and ${size(free)} is free`} on its file system. ${path} was left as it was; no temporary file was left behind.`,
    'Free space on that file system (the SQLite file is written whole beside itself, then renamed over it), and run glance-db again.',
  );
}

/**
 * Writes data to path atomically. The replaced file's owner, group and mode
 * are kept (a new file gets 0644 less the umask).
 */
export function writeFileAtomic(path: string, data: Uint8Array, hooks: AtomicWriteHooks = {}): void {
  const tmp = writeTempFile(path, data, hooks);
  moveIntoPlace(tmp, path, data.length, hooks);
}

/**
 * The first half of writeFileAtomic: the whole content on disk (fsynced)
 * under a new temporary name beside path, with path's owner, group and mode.
 * Nothing is left behind if it fails.
 */
export function writeTempFile(path: string, data: Uint8Array, hooks: AtomicWriteHooks = {}): string {
  const dir = dirname(path);
  let old: Stats | null = null;
  try {
    old = lstatSync(path);
  } catch {
    // New file.
  }
  const need = data.length + SPACE_MARGIN;
  const free = (hooks.freeBytes ?? freeBytes)(dir);
  if (free < need) throw noSpace(path, need, free);
  const tmp = (hooks.tempPath ?? tempPathFor)(path);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      // One write call takes at most 2 GiB - 1 bytes; a SQLite file may be bigger.
      let off = 0;
      while (off < data.length)
        off += writeSync(fd, data, off, Math.min(data.length - off, hooks.maxWrite ?? IO_CHUNK));
      const mine = fstatSync(fd);
      if (old && (old.uid !== mine.uid || old.gid !== mine.gid)) {
        try {
          fchownSync(fd, old.uid, old.gid);
        } catch (err) {
          throw new FileRefusedError(
            `${path} belongs to user ${old.uid}, group ${old.gid}, and glance-db (user ${mine.uid}) cannot give the rewritten file that owner and group (${(err as NodeJS.ErrnoException).code}); it was left as it was.`,
            'Run glance-db as the user that owns the database file (or as root), so that glance-api can still open it afterwards.',
          );
        }
      }
      fchmodSync(fd, old ? old.mode & 0o7777 : 0o644 & ~process.umask());
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    removeTemp(tmp);
    if (isNoSpace(err)) throw noSpace(path, need, null);
    throw err;
  }
  return tmp;
}

/** A file already has the name a new file was to take (moveIntoPlace with noReplace). */
export class NameTakenError extends Error {}

/**
 * The second half: tmp takes path's name (renamed over the file there; with
 * noReplace, only if no file has that name: linked, then the temporary name
 * removed), and the folder is fsynced. tmp is removed if it fails.
 */
export function moveIntoPlace(
  tmp: string,
  path: string,
  size: number,
  hooks: AtomicWriteHooks & { noReplace?: boolean } = {},
): void {
  try {
    if (hooks.noReplace) {
      try {
        linkSync(tmp, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new NameTakenError(path);
        // A file system without hard links: rename, if the name is still free.
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes(code ?? '')) throw err;
        if (existsNoFollow(path)) throw new NameTakenError(path);
        (hooks.rename ?? renameSync)(tmp, path);
      }
    } else {
      (hooks.rename ?? renameSync)(tmp, path);
    }
  } catch (err) {
    removeTemp(tmp);
    if (isNoSpace(err)) throw noSpace(path, size + SPACE_MARGIN, null);
    throw err;
  }
  // Linked: the temporary name goes (a crash before leaves it to removeStaleTemps).
  if (hooks.noReplace) removeTemp(tmp);
  fsyncDir(dirname(path));
}

/** Removes a temporary file (already gone: nothing to do). */
export function removeTemp(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // Already gone: nothing to clean.
  }
}

function existsNoFollow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes temporary files a killed run (kill -9, power loss) left beside path.
 * Call only under the lock that serializes writers of path. unlink never
 * follows a link, so nothing outside the folder is touched.
 */
export function removeStaleTemps(path: string): string[] {
  const base = basename(path);
  const mine = new RegExp(
    `^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(${TEMP_INFIX.replace(/\./g, '\\.')}[0-9a-f]{24}|\\.\\d+)\\.tmp$`,
  );
  const removed: string[] = [];
  for (const name of readdirSync(dirname(path))) {
    if (!mine.test(name)) continue;
    const p = join(dirname(path), name);
    try {
      unlinkSync(p);
      removed.push(p);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
