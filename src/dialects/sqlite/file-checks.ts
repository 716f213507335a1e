// The SQLite file's safety checks (src/dialects/sqlite/file.ts runs them):
// the real file behind a link, the folder it is written in, what a real
// SQLite left beside it (a WAL with frames, a hot journal), a header that
// does not match the file's length, a file that may not be replaced, and
// what a failure of SQLite's own lock means to the operator.
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConflictError, FileRefusedError, LockedError, SqliteUnusableError } from '../../platform/errors.js';
import { runningUser } from '../../core/driver/running-user.js';
import { application } from '../../core/driver/application.js';
import { HotJournalError, SqliteLockTimeout, SqliteOpenError } from '../../platform/sqlite-holds.js';

export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

export const identity = (s: Stats): FileIdentity => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
export const sameFile = (a: FileIdentity | null, b: FileIdentity | null) =>
  a === b || (!!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino);

/** A path as a shell word, for the commands a hint asks the operator to run. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The file a SQLite URL names, with every symbolic link resolved: glance-db
 * reads, locks and writes beside the real file, so a link stays a link and
 * a run through the link and one through the real path share one lock.
 */
export function realDatabasePath(path: string): string {
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    // No file yet.
  }
  if (link) {
    try {
      return realpathSync(path);
    } catch (err) {
      throw new FileRefusedError(
        `${path} is a symbolic link that leads to no file (${(err as NodeJS.ErrnoException).code}); glance-db does not create a database through a dangling link. Nothing was changed.`,
        'Point the URL at the real file, or fix the link.',
      );
    }
  }
  let dir = dirname(path);
  try {
    dir = realpathSync(dir);
  } catch {
    // A missing folder is reported by open().
  }
  return join(dir, basename(path));
}

function kindOf(s: Stats): string {
  return s.isDirectory()
    ? 'a folder'
    : s.isCharacterDevice()
      ? 'a character device'
      : s.isBlockDevice()
        ? 'a block device'
        : s.isFIFO()
          ? 'a named pipe'
          : s.isSocket()
            ? 'a socket'
            : 'not a regular file';
}

export function notRegular(name: string, s: Stats | null): FileRefusedError {
  return new FileRefusedError(
    `${name} is ${s ? kindOf(s) : 'not a regular file'}, not a SQLite database file; glance-db reads and writes back only regular files. Nothing was changed.`,
    'Check the database URL: it must name a SQLite file (or a file to create).',
  );
}

/** The folder glance-db writes the new file into (and the lock file): refused if anyone could plant or swap files there. */
export function checkFolderForWriting(dir: string, name: string): void {
  const st = statSync(dir);
  const euid = runningUser() ?? -1;
  if (st.mode & 0o002) {
    if (!(st.mode & 0o1000)) {
      throw new FileRefusedError(
        `The folder ${dir} of ${name} is writable by every user and not sticky: anyone could replace the database or plant files beside it, and glance-db does not write there. Nothing was changed.`,
        `Make the folder writable by its owner only (chmod o-w ${shellWord(dir)}), or move the database to such a folder.`,
      );
    }
    if (st.uid !== 0 && st.uid !== euid) {
      throw new FileRefusedError(
        `The folder ${dir} of ${name} is writable by every user and belongs to user ${st.uid}, neither root nor the user glance-db runs as, so its sticky bit protects nothing from that user; glance-db does not write there. Nothing was changed.`,
        "Move the database to a folder owned by root or by the database's user, writable by its owner only.",
      );
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileRefusedError(
      `The folder ${dir} of ${name} cannot be written (${code === 'EROFS' ? 'the file system is read-only' : 'permission denied'}): glance-db writes the new file beside the old one, renames it over it, and keeps its lock file there. Nothing was changed.`,
      code === 'EROFS'
        ? 'Remount the file system read-write, or copy the database to a writable place.'
        : "Run glance-db as a user who can write that folder (usually the database file's owner, or root).",
    );
  }
}

const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/**
 * What a real SQLite left beside the file that sql.js would not see: a WAL
 * with frames, or (unless journal is false: SQLite's own test tells a hot
 * journal from a writer's live one, src/platform/sqlite-lock.ts) a rollback
 * journal with a header.
 */
export function pendingSidecar(file: string, journal = true): { wal: number } | { journal: true } | null {
  try {
    const wal = statSync(`${file}-wal`);
    if (wal.size > 0) return { wal: wal.size };
  } catch {
    // No WAL.
  }
  if (!journal) return null;
  try {
    // The journal's first 8 bytes only: it may be as large as the database.
    const fd = openSync(`${file}-journal`, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const head = Buffer.alloc(8);
      if (fstatSync(fd).isFile() && readSync(fd, head, 0, 8, 0) === 8 && head.equals(JOURNAL_MAGIC))
        return { journal: true };
    } finally {
      closeSync(fd);
    }
  } catch {
    // No journal.
  }
  return null;
}

export function sidecarError(
  file: string,
  name: string,
  found: { wal: number } | { journal: true },
): SqliteUnusableError {
  const f = shellWord(file);
  if ('wal' in found) {
    return new SqliteUnusableError(
      `${name} has a write-ahead log (${file}-wal, ${found.wal} bytes) holding transactions that are not in the main file yet. glance-db's embedded SQLite (sql.js) reads only the main file: writing it back would lose those transactions and corrupt the file when SQLite next replays the log. Nothing was changed.`,
      `Stop ${application().server} and anything else using the file, let SQLite fold the log into the file and leave WAL mode: sqlite3 ${f} 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;' then run glance-db again.`,
    );
  }
  return new SqliteUnusableError(
    `${name} has a hot rollback journal (${file}-journal): a transaction was interrupted, and SQLite must roll it back before the main file is consistent. glance-db's embedded SQLite (sql.js) reads only the main file. Nothing was changed.`,
    `Stop anything using the file, let SQLite roll the journal back by opening it once: sqlite3 ${f} 'PRAGMA integrity_check;' then run glance-db again.`,
  );
}

export function changedOnDisk(name: string): ConflictError {
  return new ConflictError(
    `${name} was changed on disk by another program after glance-db read it; glance-db did not overwrite it.`,
    "A program that ignores SQLite's locks replaced or rewrote the file (a copy or restore over it, a file synchronizer); stop it, and whatever else writes the database, and run glance-db again.",
  );
}

export function damaged(name: string, file: string, why: string): SqliteUnusableError {
  return new SqliteUnusableError(
    `${name} is a damaged SQLite file: ${why}. Nothing was changed.`,
    `Restore it from a backup; sqlite3 ${shellWord(file)} 'PRAGMA integrity_check;' shows the damage. glance-db changes only a sound file.`,
  );
}

/** SQLite's messages for a file it cannot use. */
export const CORRUPT = /malformed|not a database|file is encrypted|disk image|SQLITE_CORRUPT|SQLITE_NOTADB/i;

/** The header's page size and page count against the file's length: a truncated file is caught before sql.js reads it. */
export function checkImage(bytes: Buffer, length: number, name: string, file: string): void {
  if (length < 100 || bytes.length < 100)
    throw damaged(name, file, `it is ${length} bytes long, shorter than a SQLite header`);
  const raw = bytes.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    throw damaged(name, file, `its header names no valid page size (${raw})`);
  if (length % pageSize !== 0)
    throw damaged(
      name,
      file,
      `its length, ${length} bytes, is not a whole number of ${pageSize}-byte pages (truncated or damaged)`,
    );
  const pages = bytes.readUInt32BE(28);
  const headerSizeValid = bytes.readUInt32BE(24) === bytes.readUInt32BE(92);
  if (headerSizeValid && pages > 0 && pages * pageSize > length) {
    throw damaged(name, file, `its header counts ${pages} pages and the file holds ${length / pageSize} (truncated)`);
  }
}

/** The first bytes of a file (its SQLite header), read before any SQLite lock is held. */
export function readHead(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) return Buffer.alloc(0);
    const head = Buffer.alloc(100);
    return head.subarray(0, readSync(fd, head, 0, 100, 0));
  } finally {
    closeSync(fd);
  }
}

/** The file change counter in a SQLite header (null for a file too short to have one). */
export const counterOf = (bytes: Uint8Array): number | null =>
  bytes.length >= 28 ? Buffer.from(bytes.buffer, bytes.byteOffset, 28).readUInt32BE(24) : null;

/** A file a write-back may replace: one name only, writable, and its owner's (or root's) to write. */
export function checkReplaceable(file: string, name: string, st: Stats): void {
  if (st.nlink > 1) {
    throw new FileRefusedError(
      `${name} has ${st.nlink} names (hard links): writing it back would replace the file under this name only, and the other names would keep the old database, so glance-db does not. Nothing was changed.`,
      `Find the other names (find / -xdev -samefile ${shellWord(file)}), make them symbolic links to this one, and run glance-db again.`,
    );
  }
  let writable = (st.mode & 0o222) !== 0;
  try {
    accessSync(file, constants.W_OK);
  } catch {
    writable = false;
  }
  if (!writable) {
    throw new FileRefusedError(
      `${name} is read-only (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${st.uid}); glance-db does not replace a file that may not be written. Nothing was changed.`,
      `If it is meant to be upgraded, make it writable for its owner (chmod u+w ${shellWord(file)}) and run glance-db again.`,
    );
  }
  const euid = runningUser() ?? 0;
  if (euid !== 0 && st.uid !== euid) {
    throw new FileRefusedError(
      `${name} belongs to user ${st.uid}, and glance-db runs as user ${euid}: the rewritten file would belong to user ${euid}, and its owner might no longer open it. Nothing was changed.`,
      'Run glance-db as the user that owns the database file (or as root), so that owner, group and mode are kept.',
    );
  }
}

/** When SQLite's lock failed: starting the run, on a WAL-mode file, for the write-back, or for a read. */
export type LockStep = 'start' | 'wal' | 'write-back' | 'read';

/** What the SQLite lock's failures mean to the operator (other errors are returned as they are). */
export function lockFailure(
  err: unknown,
  when: LockStep,
  f: { file: string; name: string; lockWaitMs: number; wroteBack: boolean },
): unknown {
  const waited = `${Math.round(f.lockWaitMs / 1000)} s (--lock-wait)`;
  const name = f.name;
  if (err instanceof HotJournalError) return sidecarError(f.file, name, { journal: true });
  if (err instanceof SqliteOpenError) {
    if (err.damaged) return damaged(name, f.file, `SQLite says "${err.message}"`);
    return new FileRefusedError(
      `${name} cannot be opened by SQLite to take its lock (SQLite says "${err.message}"). Nothing was changed.`,
      'Check that the file is a SQLite database that the user glance-db runs as may read and write.',
    );
  }
  if (!(err instanceof SqliteLockTimeout)) return err;
  if (when === 'start') {
    return new LockedError(
      `${name} is being written by another program, which holds SQLite's write lock on it (${application().server}, ${application().tool}, a sqlite3 session); glance-db waited ${waited} for it and gave up. Nothing was changed.`,
      `glance-db keeps other SQLite writers out from before it reads the file until it has replaced it, so it starts between their transactions: stop ${application().server} (and anything else writing the file) for commands that change the database, or raise --lock-wait.`,
    );
  }
  if (when === 'wal') {
    return new LockedError(
      `${name} is in WAL mode and another program has it open (${application().server}?): a program that keeps a WAL-mode file open would go on writing into a log beside the file glance-db puts in its place, so glance-db replaces such a file only when no other program has it open. It waited ${waited} and gave up. Nothing was changed.`,
      `Stop ${application().server} and anything else using the file, and run glance-db again. To let glance-db hold off ${application().server}'s writes instead, switch the file to rollback-journal mode once, with ${application().server} stopped: sqlite3 ${shellWord(f.file)} 'PRAGMA journal_mode=DELETE;'`,
    );
  }
  if (when === 'read') {
    return new LockedError(
      `${name} stayed locked by another program writing it (SQLite's lock) for ${waited}; glance-db reads the file only between that program's commits. Nothing was changed.`,
      `Find the program that keeps its transaction open (${application().server}, ${application().tool}, a sqlite3 session), or raise --lock-wait.`,
    );
  }
  return new LockedError(
    `Other programs kept reading ${name} through SQLite for ${waited} while glance-db waited to replace it; glance-db did not write it back: ${f.wroteBack ? 'the file holds what this run wrote back until then' : 'the file is as it was before this run'}.`,
    `A program with a read transaction left open (${application().server} in the middle of a request, a sqlite3 session) holds the file; stop it, or raise --lock-wait, and run glance-db again.`,
  );
}
