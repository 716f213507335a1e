// The SQLite file on disk, as the driver (src/dialects/sqlite/driver.ts) reads
// and replaces it: sql.js sees only the main file, so glance-db works on the
// real file behind any symbolic link, refuses what a real SQLite must settle
// first (a WAL with committed transactions, a hot rollback journal), and
// writes back only over a regular file with one name that it may write,
// keeping owner and mode (the checks: src/dialects/sqlite/file-checks.ts).
//
// Other programs that write the file (the application's server and tools, sqlite3)
// know only SQLite's own locks: a writing run holds them from before it reads
// the file until after the last rename (src/platform/sqlite-lock.ts), so their
// writes wait or fail with "database is locked" instead of landing in a file
// about to be replaced; a read-only run reads under SQLite's shared lock.
import { accessSync, constants, existsSync, fstatSync, lstatSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, ConflictError } from '../../platform/errors.js';
import {
  moveIntoPlace,
  NameTakenError,
  removeStaleTemps,
  removeTemp,
  writeTempFile,
} from '../../platform/atomic-write.js';
import { interruptHost, type InterruptHost } from '../../core/driver/interrupt.js';
import { application } from '../../core/driver/application.js';
import { acquireFileLock } from '../../platform/file-lock.js';
import { MAX_WHOLE_FILE, readWholeDescriptor } from '../../platform/read-whole.js';
import { SqliteFileLock, walHeader } from '../../platform/sqlite-lock.js';
import { readShared, releaseHold, SqliteOpenError, type SqliteLockHold } from '../../platform/sqlite-holds.js';
import {
  changedOnDisk,
  checkFolderForWriting,
  checkImage,
  checkReplaceable,
  counterOf,
  identity,
  lockFailure,
  notRegular,
  pendingSidecar,
  readHead,
  realDatabasePath,
  sameFile,
  sidecarError,
  type FileIdentity,
  type LockStep,
} from './file-checks.js';
import { readSqliteFile, ROOM_TO_GROW } from './image.js';

export class SqliteFile {
  /** The real file behind the URL's path (links resolved): what is read, locked and written. */
  path: string;
  /** What the file looked like when read or last written: a different file on disk means another writer. */
  private seen: FileIdentity | null = null;
  /** The file's change counter (header bytes 24-27) when read or last written: SQLite adds one at every commit. */
  private seenCounter: number | null = null;
  private releaseLock: (() => void) | null = null;
  /** SQLite's own lock on the file, held from lock() to close() (none for a file not there yet, or one glance-db may not write). */
  private guard: SqliteFileLock | null = null;
  /** Where the signals are listened to while the lock is held. */
  private signals: InterruptHost | null = null;
  /** A write-back under way: its temporary file, and the lock on it, until it is renamed into place. */
  private pending: { tmp: string; hold: SqliteLockHold | null } | null = null;
  /** A write-back has replaced the file during this run. */
  private wroteBack = false;

  constructor(
    private readonly urlPath: string,
    private readonly lockWaitMs: number,
  ) {
    this.path = urlPath;
  }

  /** The file as messages name it: the URL's path, and the real file when a link leads there. */
  get name(): string {
    return this.path === this.urlPath ? this.path : `${this.urlPath} (the real file ${this.path})`;
  }

  /** Finds the real file (links resolved); refuses a missing folder or what is not a regular file. */
  open(): void {
    const dir = this.urlPath.replace(/\/[^/]*$/, '') || '/';
    if (!existsSync(dir)) {
      throw new ConfigError(`The folder of the SQLite database ${this.urlPath} does not exist.`);
    }
    this.path = realDatabasePath(this.urlPath);
    let st: Stats | null = null;
    try {
      st = lstatSync(this.path);
    } catch {
      // A new database.
    }
    if (st && !st.isFile()) throw notRegular(this.name, st);
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  /** glance-db's lock file, then SQLite's own lock, within one --lock-wait. */
  async lock(): Promise<void> {
    checkFolderForWriting(dirname(this.path), this.name);
    const deadline = Date.now() + this.lockWaitMs;
    this.releaseLock = await acquireFileLock(`${this.path}.lock`, this.lockWaitMs, `The SQLite database ${this.name}`);
    this.watchSignals();
    // Under the lock, no other glance-db writes here: what a killed run left is garbage.
    removeStaleTemps(this.path);
    this.guard = await this.takeSqliteLock(deadline);
  }

  /**
   * SQLite's own lock, for the other programs writing the file, within the
   * same --lock-wait as the flock: none for a file that is not there yet (its
   * first write-back takes the name only if it is still free), that glance-db
   * may not write (never written back: checkBeforeWrite), or that is no SQLite
   * file (the driver's load() refuses it).
   */
  private async takeSqliteLock(deadline: number): Promise<SqliteFileLock | null> {
    let st: Stats;
    try {
      st = lstatSync(this.path);
    } catch {
      return null;
    }
    if (!st.isFile()) throw notRegular(this.name, st);
    try {
      accessSync(this.path, constants.R_OK | constants.W_OK);
    } catch {
      return null;
    }
    // Too large to hold, or not a SQLite file: load() refuses it, with its reason.
    if (st.size > MAX_WHOLE_FILE) return null;
    const head = readHead(this.path);
    if (head.length > 0 && head.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') return null;
    // A WAL with frames is refused before SQLite opens it (its connection would fold them in when closed).
    const found = pendingSidecar(this.path, false);
    if (found) throw sidecarError(this.path, this.name, found);
    const wal = walHeader(head) || existsSync(`${this.path}-wal`);
    try {
      return await SqliteFileLock.acquire(this.path, deadline, wal);
    } catch (err) {
      // A damaged file: the header and length say how, if they can (read again: a writer may
      // have been growing the file a moment ago, which is why they are not judged before the lock).
      if (err instanceof SqliteOpenError && err.damaged)
        checkImage(readHead(this.path), statSync(this.path).size, this.name, this.path);
      throw this.lockError(err, wal ? 'wal' : 'start');
    }
  }

  private lockError(err: unknown, when: LockStep): unknown {
    return lockFailure(err, when, {
      file: this.path,
      name: this.name,
      lockWaitMs: this.lockWaitMs,
      wroteBack: this.wroteBack,
    });
  }

  unlock(): void {
    this.unwatchSignals();
    this.guard?.release();
    this.guard = null;
    this.releaseLock?.();
    this.releaseLock = null;
  }

  /**
   * SIGINT/SIGTERM while the lock is held: Node runs this handler only between
   * synchronous stretches, and the temporary file of a write-back exists only
   * inside one (writeFileAtomic), so the handler never sees one; it releases
   * the lock and ends the process by the same signal, before the write-back,
   * so the file stays as it was before the run. The driver's
   * versionTransaction() and writeBack() yield first so that a signal is
   * handled between versions.
   */
  private readonly onSignal = (sig: NodeJS.Signals) => {
    // A write-back waiting for readers (exclusiveLock) leaves nothing behind either.
    if (this.pending) {
      if (this.pending.hold) releaseHold(this.pending.hold);
      removeTemp(this.pending.tmp);
      this.pending = null;
    }
    const host = this.signals;
    this.unlock();
    host?.resignal(sig);
  };

  /** The process's signals, through what the CLI lent (core/driver/interrupt.ts); outside the CLI none is caught. */
  private watchSignals(): void {
    this.signals = interruptHost();
    this.signals?.listen(this.onSignal);
  }

  private unwatchSignals(): void {
    this.signals?.unlisten(this.onSignal);
    this.signals = null;
  }

  /** No file to read: a new database, written back only if its name is still free. */
  forget(): void {
    this.seen = null;
    this.seenCounter = null;
  }

  /**
   * The whole file, and what it looked like (seen): through SQLite's lock's
   * descriptor when glance-db holds it, otherwise under SQLite's shared lock
   * for the length of the read (a file in rollback-journal mode: a hot
   * journal is told from a writer's live one by SQLite itself), otherwise
   * (WAL mode, no SQLite file) as it is.
   */
  async read(): Promise<Buffer> {
    const bytes = await this.readWhole();
    this.seenCounter = counterOf(bytes);
    return bytes;
  }

  private async readWhole(): Promise<Buffer> {
    const file = this.path;
    if (this.guard) {
      const found = pendingSidecar(file);
      if (found) throw sidecarError(file, this.name, found);
      const guard = this.guard;
      const bytes = readSqliteFile(file, this.name, () => guard.read(file, ROOM_TO_GROW));
      this.seen = identity(guard.stat());
      return bytes;
    }
    const head = readHead(file);
    const shared =
      head.length >= 100 &&
      head.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' &&
      !walHeader(head) &&
      !existsSync(`${file}-wal`);
    const found = pendingSidecar(file, !shared);
    if (found) throw sidecarError(file, this.name, found);
    if (shared) {
      try {
        return await readShared(file, Date.now() + this.lockWaitMs, (fd) => {
          const bytes = readSqliteFile(file, this.name, () => readWholeDescriptor(fd, file, ROOM_TO_GROW));
          this.seen = identity(fstatSync(fd));
          return bytes;
        });
      } catch (err) {
        // A file SQLite will not open (damaged, unreadable): the checks below say what is wrong with it.
        if (!(err instanceof SqliteOpenError)) throw this.lockError(err, 'read');
      }
    }
    const bytes = readSqliteFile(file, this.name);
    this.seen = identity(statSync(file));
    return bytes;
  }

  /** A write-back may replace the file only if it is still the file read, alone, and ours to write. */
  private checkBeforeWrite(): void {
    let st: Stats | null = null;
    try {
      st = lstatSync(this.path);
    } catch {
      // Still no file: a new database.
    }
    // Under SQLite's lock no SQLite writer gets here: this catches a program that ignores
    // SQLite's locks (a copy over the file, a restore) or a lock this process lost.
    if (
      !sameFile(st?.isFile() ? identity(st) : st ? { size: -1, mtimeMs: -1, ino: -1 } : null, this.seen) ||
      (st && this.guard && counterOf(this.guard.header(28)) !== this.seenCounter)
    ) {
      throw changedOnDisk(this.name);
    }
    const found = st ? pendingSidecar(this.path) : null;
    if (found) {
      throw new ConflictError(
        `Another program started writing ${this.name} through SQLite (${'wal' in found ? 'its write-ahead log now holds transactions' : 'it left a hot rollback journal'}) after glance-db read it; glance-db did not overwrite it.`,
        `Stop whatever else writes the database (${application().server}, ${application().tool}), then: ${sidecarError(this.path, this.name, found).hint}`,
      );
    }
    if (st) checkReplaceable(this.path, this.name, st);
  }

  /**
   * Writes the image back, refusing if someone else changed the file since
   * we read it: the new file is written beside the old one and locked
   * (SQLite's lock) under its temporary name; then, once the reads in flight
   * on the old file are done (EXCLUSIVE), the file is checked once more and
   * the new one renamed over it. A new database takes the name only if no
   * file has it yet. image() is asked for the bytes after the first check.
   */
  async writeBack(image: () => Uint8Array): Promise<void> {
    // A pending SIGINT/SIGTERM is handled here, before the write, never during it.
    await new Promise((r) => setImmediate(r));
    this.checkBeforeWrite();
    const existed = this.seen !== null;
    // Never without SQLite's lock on a file that is there (lock() takes it; a file it is not taken on is refused above or in load()).
    if (existed && !this.guard) throw new Error(`write-back of ${this.path} without SQLite's lock`);
    const data = image();
    const pending: { tmp: string; hold: SqliteLockHold | null } = { tmp: writeTempFile(this.path, data), hold: null };
    this.pending = pending;
    try {
      pending.hold = SqliteFileLock.lockReplacement(pending.tmp);
      try {
        await this.guard?.exclusiveLock(Date.now() + this.lockWaitMs);
      } catch (err) {
        throw this.lockError(err, 'write-back');
      }
      // A signal handled while waiting above ended the process; nothing below yields.
      this.checkBeforeWrite();
      if (this.guard && !this.guard.beforeRename(this.path)) throw changedOnDisk(this.name);
      moveIntoPlace(pending.tmp, this.path, data.length, { noReplace: !existed });
    } catch (err) {
      if (pending.hold) releaseHold(pending.hold);
      removeTemp(pending.tmp);
      throw err instanceof NameTakenError ? changedOnDisk(this.name) : err;
    } finally {
      this.pending = null;
    }
    if (this.guard) this.guard.adopt(pending.hold);
    else this.guard = SqliteFileLock.of(pending.hold);
    this.seen = identity(this.guard.stat());
    this.seenCounter = counterOf(data);
    this.wroteBack = true;
  }
}
