// SQLite through sql.js (WebAssembly: no server, no native build). The file
// is read into memory under the lock, each version runs in a transaction in
// memory, and the whole image is written back once, atomically, when the run
// ends: the file moves from the version it had to the version the run
// reached. A failed version is rolled back in memory and the versions
// committed before it are written back before the error is reported; a run
// killed before its write-back leaves the file exactly as it was.
//
// sql.js sees only the main file, so glance-db works on the real file behind
// any symbolic link, refuses what a real SQLite must settle first (a WAL with
// committed transactions, a hot rollback journal), and writes back only over
// a regular file with one name that it may write, keeping owner and mode.
//
// Other programs that write the file (glance-api, glance-manage, sqlite3)
// know only SQLite's own locks: a writing run holds them from before it reads
// the file until after the last rename (src/platform/sqlite-lock.ts), so their
// writes wait or fail with "database is locked" instead of landing in a file
// about to be replaced; a read-only run reads under SQLite's shared lock.
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Database } from 'sql.js';
import initSqlJs, { type GlanceDbFile, type VendoredSqlJs as SqlJsStatic } from '#sql.js';
import {
  ConfigError,
  ConflictError,
  FileRefusedError,
  LockedError,
  SqliteUnusableError,
} from '../../platform/errors.js';
import type { SqliteTarget } from '../../platform/url.js';
import { SQL_WASM } from '../../platform/paths.js';
import {
  moveIntoPlace,
  NameTakenError,
  removeStaleTemps,
  removeTemp,
  writeTempFile,
} from '../../platform/atomic-write.js';
import { acquireFileLock } from '../../platform/file-lock.js';
import {
  FileTooLargeError,
  MAX_WHOLE_FILE,
  NotRegularFileError,
  readWholeDescriptor,
  readWholeFile,
} from '../../platform/read-whole.js';
import {
  HotJournalError,
  readShared,
  releaseHold,
  SqliteFileLock,
  SqliteLockTimeout,
  SqliteOpenError,
  walHeader,
  type SqliteLockHold,
} from '../../platform/sqlite-lock.js';
import type {
  Driver,
  DriverConfig,
  RecordedState,
  RowUpdate,
  Tx,
  VersionRow,
  VersionTx,
} from '../../core/driver/driver.js';
import {
  addMissingColumnsSql,
  columnNamesSql,
  createVersionTableSql,
  insertSql,
  rowFrom,
  rowValues,
  selectSql,
  basisSql,
  historyBasis,
} from '../../core/driver/version-table.js';
import { DIALECTS } from '../index.js';

let sqlJs: Promise<SqlJsStatic> | null = null;

/** Below this size a run is short, and optimizing sql.js costs more than it saves. */
const BASELINE_COMPILER_BELOW = 64 * 1024 * 1024;

/**
 * sql.js is WebAssembly. V8 starts it on its baseline compiler and recompiles
 * hot functions (SQLite's bytecode interpreter above all) with its optimizing
 * compiler on background threads, and the process cannot exit before those
 * jobs finish: about 70 ms at the end of a fresh sync, 80 ms of a `version`.
 * That only pays off on a long upgrade, so a database under 64 MiB (or none
 * yet) runs on the baseline compiler alone. Decided once, before sql.js is
 * first compiled; a big database later in the same process keeps the choice.
 */
function startSqlJs(path: string): Promise<SqlJsStatic> {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // No file yet: a new database, as small as they come.
  }
  if (size < BASELINE_COMPILER_BELOW) setFlagsFromString('--liftoff-only');
  return initSqlJs(SQL_WASM ? { locateFile: () => SQL_WASM! } : undefined);
}

interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

const identity = (s: Stats): FileIdentity => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
const sameFile = (a: FileIdentity | null, b: FileIdentity | null) =>
  a === b || (!!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino);

/** A path as a shell word, for the commands a hint asks the operator to run. */
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

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

function notRegular(name: string, s: Stats | null): FileRefusedError {
  return new FileRefusedError(
    `${name} is ${s ? kindOf(s) : 'not a regular file'}, not a SQLite database file; glance-db reads and writes back only regular files. Nothing was changed.`,
    'Check the database URL: it must name a SQLite file (or a file to create).',
  );
}

/** The folder glance-db writes the new file into (and the lock file): refused if anyone could plant or swap files there. */
function checkFolderForWriting(dir: string, name: string): void {
  const st = statSync(dir);
  const euid = process.geteuid?.() ?? -1;
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
function pendingSidecar(file: string, journal = true): { wal: number } | { journal: true } | null {
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

function sidecarError(file: string, name: string, found: { wal: number } | { journal: true }): SqliteUnusableError {
  const f = shellWord(file);
  if ('wal' in found) {
    return new SqliteUnusableError(
      `${name} has a write-ahead log (${file}-wal, ${found.wal} bytes) holding transactions that are not in the main file yet. glance-db's embedded SQLite (sql.js) reads only the main file: writing it back would lose those transactions and corrupt the file when SQLite next replays the log. Nothing was changed.`,
      `Stop glance-api and anything else using the file, let SQLite fold the log into the file and leave WAL mode: sqlite3 ${f} 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;' then run glance-db again.`,
    );
  }
  return new SqliteUnusableError(
    `${name} has a hot rollback journal (${file}-journal): a transaction was interrupted, and SQLite must roll it back before the main file is consistent. glance-db's embedded SQLite (sql.js) reads only the main file. Nothing was changed.`,
    `Stop anything using the file, let SQLite roll the journal back by opening it once: sqlite3 ${f} 'PRAGMA integrity_check;' then run glance-db again.`,
  );
}

function changedOnDisk(name: string): ConflictError {
  return new ConflictError(
    `${name} was changed on disk by another program after glance-db read it; glance-db did not overwrite it.`,
    "A program that ignores SQLite's locks replaced or rewrote the file (a copy or restore over it, a file synchronizer); stop it, and whatever else writes the database, and run glance-db again.",
  );
}

function damaged(name: string, file: string, why: string): SqliteUnusableError {
  return new SqliteUnusableError(
    `${name} is a damaged SQLite file: ${why}. Nothing was changed.`,
    `Restore it from a backup; sqlite3 ${shellWord(file)} 'PRAGMA integrity_check;' shows the damage. glance-db changes only a sound file.`,
  );
}

/** SQLite's messages for a file it cannot use. */
const CORRUPT = /malformed|not a database|file is encrypted|disk image|SQLITE_CORRUPT|SQLITE_NOTADB/i;

/** The header's page size and page count against the file's length: a truncated file is caught before sql.js reads it. */
function checkImage(bytes: Buffer, length: number, name: string, file: string): void {
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
function readHead(file: string): Buffer {
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
const counterOf = (bytes: Uint8Array): number | null =>
  bytes.length >= 28 ? Buffer.from(bytes.buffer, bytes.byteOffset, 28).readUInt32BE(24) : null;

export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  /** From the dialect's description: the engine runs a version in one transaction, or resumably (src/core/apply.ts). */
  readonly transactionalDdl = DIALECTS.sqlite.transactionalDdl;
  /** No signal reaches a version half way: the handler runs between versions (onSignal). */
  readonly interruptedOutcome = 'The version in progress was rolled back.';
  private readonly target: SqliteTarget;
  /** The real file behind the URL's path (links resolved): what is read, locked and written. */
  private file: string;
  private db: Database | null = null;
  /** What the file looked like when read or last written: a different file on disk means another writer. */
  private seen: FileIdentity | null = null;
  /** The file's change counter (header bytes 24-27) when read or last written: SQLite adds one at every commit. */
  private seenCounter: number | null = null;
  private releaseLock: (() => void) | null = null;
  /** SQLite's own lock on the file, held from lock() to close() (none for a file not there yet, or one glance-db may not write). */
  private guard: SqliteFileLock | null = null;
  /** A write-back under way: its temporary file, and the lock on it, until it is renamed into place. */
  private pending: { tmp: string; hold: SqliteLockHold | null } | null = null;
  /** A write-back has replaced the file during this run. */
  private wroteBack = false;
  /** The image holds committed changes not yet on disk: close() writes them back. */
  private dirty = false;
  /** SQLite reported the image damaged: nothing of it is written back. */
  private damagedImage = false;
  /** The database file as sql.js holds it in memory: what a write-back writes. */
  private image: GlanceDbFile | null = null;

  constructor(private readonly config: DriverConfig) {
    this.target = config.target as SqliteTarget;
    this.file = this.target.path;
  }

  /** The file as messages name it: the URL's path, and the real file when a link leads there. */
  private get name(): string {
    return this.file === this.target.path ? this.file : `${this.target.path} (the real file ${this.file})`;
  }

  async open(): Promise<void> {
    const dir = this.target.path.replace(/\/[^/]*$/, '') || '/';
    if (!existsSync(dir)) {
      throw new ConfigError(`The folder of the SQLite database ${this.target.path} does not exist.`);
    }
    this.file = realDatabasePath(this.target.path);
    let st: Stats | null = null;
    try {
      st = lstatSync(this.file);
    } catch {
      // A new database.
    }
    if (st && !st.isFile()) throw notRegular(this.name, st);
    sqlJs ??= startSqlJs(this.file);
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  async lock(): Promise<void> {
    checkFolderForWriting(dirname(this.file), this.name);
    const deadline = Date.now() + this.config.lockWaitMs;
    this.releaseLock = await acquireFileLock(
      `${this.file}.lock`,
      this.config.lockWaitMs,
      `The SQLite database ${this.name}`,
    );
    this.watchSignals();
    // Under the lock, no other glance-db writes here: what a killed run left is garbage.
    removeStaleTemps(this.file);
    // Whatever was read before the lock may be stale: read again under it.
    this.db?.close();
    this.db = null;
    this.image = null;
    this.guard = await this.takeSqliteLock(deadline);
  }

  /**
   * SQLite's own lock, for the other programs writing the file, within the
   * same --lock-wait as the flock: none for a file that is not there yet (its
   * first write-back takes the name only if it is still free), that glance-db
   * may not write (never written back: checkBeforeWrite), or that is no SQLite
   * file (load() refuses it).
   */
  private async takeSqliteLock(deadline: number): Promise<SqliteFileLock | null> {
    let st: Stats;
    try {
      st = lstatSync(this.file);
    } catch {
      return null;
    }
    if (!st.isFile()) throw notRegular(this.name, st);
    try {
      accessSync(this.file, constants.R_OK | constants.W_OK);
    } catch {
      return null;
    }
    // Too large to hold, or not a SQLite file: load() refuses it, with its reason.
    if (st.size > MAX_WHOLE_FILE) return null;
    const head = readHead(this.file);
    if (head.length > 0 && head.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') return null;
    // A WAL with frames is refused before SQLite opens it (its connection would fold them in when closed).
    const found = pendingSidecar(this.file, false);
    if (found) throw sidecarError(this.file, this.name, found);
    const wal = walHeader(head) || existsSync(`${this.file}-wal`);
    try {
      return await SqliteFileLock.acquire(this.file, deadline, wal);
    } catch (err) {
      // A damaged file: the header and length say how, if they can (read again: a writer may
      // have been growing the file a moment ago, which is why they are not judged before the lock).
      if (err instanceof SqliteOpenError && err.damaged)
        checkImage(readHead(this.file), statSync(this.file).size, this.name, this.file);
      throw this.lockError(err, wal ? 'wal' : 'start');
    }
  }

  /** What the SQLite lock's failures mean here. */
  private lockError(err: unknown, when: 'start' | 'wal' | 'write-back' | 'read'): unknown {
    const waited = `${Math.round(this.config.lockWaitMs / 1000)} s (--lock-wait)`;
    if (err instanceof HotJournalError) return sidecarError(this.file, this.name, { journal: true });
    if (err instanceof SqliteOpenError) {
      if (err.damaged) return damaged(this.name, this.file, `SQLite says "${err.message}"`);
      return new FileRefusedError(
        `${this.name} cannot be opened by SQLite to take its lock (SQLite says "${err.message}"). Nothing was changed.`,
        'Check that the file is a SQLite database that the user glance-db runs as may read and write.',
      );
    }
    if (!(err instanceof SqliteLockTimeout)) return err;
    if (when === 'start') {
      return new LockedError(
        `${this.name} is being written by another program, which holds SQLite's write lock on it (glance-api, glance-manage, a sqlite3 session); glance-db waited ${waited} for it and gave up. Nothing was changed.`,
        'glance-db keeps other SQLite writers out from before it reads the file until it has replaced it, so it starts between their transactions: stop glance-api (and anything else writing the file) for commands that change the database, or raise --lock-wait.',
      );
    }
    if (when === 'wal') {
      return new LockedError(
        `${this.name} is in WAL mode and another program has it open (glance-api?): a program that keeps a WAL-mode file open would go on writing into a log beside the file glance-db puts in its place, so glance-db replaces such a file only when no other program has it open. It waited ${waited} and gave up. Nothing was changed.`,
        `Stop glance-api and anything else using the file, and run glance-db again. To let glance-db hold off glance-api's writes instead, switch the file to rollback-journal mode once, with glance-api stopped: sqlite3 ${shellWord(this.file)} 'PRAGMA journal_mode=DELETE;'`,
      );
    }
    if (when === 'read') {
      return new LockedError(
        `${this.name} stayed locked by another program writing it (SQLite's lock) for ${waited}; glance-db reads the file only between that program's commits. Nothing was changed.`,
        'Find the program that keeps its transaction open (glance-api, glance-manage, a sqlite3 session), or raise --lock-wait.',
      );
    }
    return new LockedError(
      `Other programs kept reading ${this.name} through SQLite for ${waited} while glance-db waited to replace it; glance-db did not write it back: ${this.wroteBack ? 'the file holds what this run wrote back until then' : 'the file is as it was before this run'}.`,
      'A program with a read transaction left open (glance-api in the middle of a request, a sqlite3 session) holds the file; stop it, or raise --lock-wait, and run glance-db again.',
    );
  }

  private async unlock(): Promise<void> {
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
   * so the file stays as it was before the run. versionTransaction() and persist()
   * yield first so that a signal is handled between versions.
   */
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.unwatchSignals();
    // A write-back waiting for readers (exclusiveLock) leaves nothing behind either.
    if (this.pending) {
      if (this.pending.hold) releaseHold(this.pending.hold);
      removeTemp(this.pending.tmp);
      this.pending = null;
    }
    this.guard?.release();
    this.guard = null;
    this.releaseLock?.();
    this.releaseLock = null;
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };

  private watchSignals(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private unwatchSignals(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private async load(): Promise<Database> {
    if (this.db) return this.db;
    const SQL = await sqlJs!;
    if (this.exists()) {
      const bytes = await this.readFile();
      this.seenCounter = counterOf(bytes);
      if (bytes.length > 0 && bytes.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
        throw new ConfigError(`${this.name} is not a SQLite database file.`);
      }
      if (bytes.length > 0) checkImage(bytes, bytes.length, this.name, this.file);
      // sql.js keeps a Buffer it is given (its first write to a new file takes
      // buffer.slice(), a view for a Buffer): the file is in memory once.
      const db = new SQL.Database(bytes);
      const image = imageOf(SQL, db);
      // ...and with the room read-whole left behind it, the upgrade's growth
      // stays in place instead of sql.js copying the whole file into a bigger buffer.
      if (
        image &&
        image.bytes.buffer === bytes.buffer &&
        image.bytes.byteOffset === 0 &&
        image.length === bytes.length
      ) {
        image.bytes = new Uint8Array(bytes.buffer);
      }
      try {
        db.exec('SELECT count(*) FROM sqlite_master');
        // A file left in WAL mode (no -wal, or an empty one: see pendingSidecar) is
        // run in rollback-journal mode, so that every commit lands in the image
        // that is written back; it is written back in that mode, as before.
        if (bytes.length >= 20 && (bytes[18] === 2 || bytes[19] === 2)) db.exec('PRAGMA journal_mode=DELETE');
      } catch (err) {
        db.close();
        throw CORRUPT.test((err as Error).message)
          ? damaged(this.name, this.file, `SQLite says "${(err as Error).message}"`)
          : err;
      }
      this.db = db;
      this.image = image;
    } else {
      this.seen = null;
      this.seenCounter = null;
      this.db = new SQL.Database();
      this.image = imageOf(SQL, this.db);
    }
    return this.db;
  }

  /**
   * The whole file, and what it looked like (seen): through SQLite's lock's
   * descriptor when glance-db holds it, otherwise under SQLite's shared lock
   * for the length of the read (a file in rollback-journal mode: a hot
   * journal is told from a writer's live one by SQLite itself), otherwise
   * (WAL mode, no SQLite file) as it is.
   */
  private async readFile(): Promise<Buffer> {
    if (this.guard) {
      const found = pendingSidecar(this.file);
      if (found) throw sidecarError(this.file, this.name, found);
      const guard = this.guard;
      const bytes = readSqliteFile(this.file, this.name, () => guard.read(this.file, ROOM_TO_GROW));
      this.seen = identity(guard.stat());
      return bytes;
    }
    const head = readHead(this.file);
    const shared =
      head.length >= 100 &&
      head.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' &&
      !walHeader(head) &&
      !existsSync(`${this.file}-wal`);
    const found = pendingSidecar(this.file, !shared);
    if (found) throw sidecarError(this.file, this.name, found);
    if (shared) {
      try {
        return await readShared(this.file, Date.now() + this.config.lockWaitMs, (fd) => {
          const bytes = readSqliteFile(this.file, this.name, () => readWholeDescriptor(fd, this.file, ROOM_TO_GROW));
          this.seen = identity(fstatSync(fd));
          return bytes;
        });
      } catch (err) {
        // A file SQLite will not open (damaged, unreadable): the checks below say what is wrong with it.
        if (!(err instanceof SqliteOpenError)) throw this.lockError(err, 'read');
      }
    }
    const bytes = readSqliteFile(this.file, this.name);
    this.seen = identity(statSync(this.file));
    return bytes;
  }

  query = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const db = await this.load();
    const rows: Record<string, unknown>[] = [];
    try {
      const stmt = db.prepare(sql, params as never);
      try {
        while (stmt.step()) rows.push(stmt.getAsObject());
      } finally {
        stmt.free();
      }
    } catch (err) {
      if (CORRUPT.test((err as Error).message)) {
        this.damagedImage = true;
        throw damaged(this.name, this.file, `SQLite says "${(err as Error).message}"`);
      }
      throw err;
    }
    return rows;
  };

  async listTables(): Promise<string[]> {
    const rows = await this.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    return rows.map((r) => String(r.name));
  }

  async ensureVersionTable(): Promise<void> {
    const table = this.config.versionTable;
    if (!(await this.listTables()).includes(table)) {
      (await this.load()).exec(createVersionTableSql(table, 'sqlite'));
      this.dirty = true;
    }
    const missing = addMissingColumnsSql(
      table,
      'sqlite',
      (await this.query(columnNamesSql(table, 'sqlite'))).map((r) => String(r.name)),
    );
    if (missing.length === 0) return;
    for (const sql of missing) (await this.load()).exec(sql);
    this.dirty = true;
  }

  async setNote(version: number, note: string): Promise<void> {
    (await this.load()).run(`UPDATE ${this.config.versionTable} SET note = ? WHERE version = ?`, [note, version]);
    this.dirty = true;
  }

  async readHistory(): Promise<VersionRow[]> {
    if (!(await this.listTables()).includes(this.config.versionTable)) return [];
    return (await this.query(selectSql(this.config.versionTable))).map(rowFrom);
  }

  async editHistory(statements: { sql: string; params: unknown[] }[], basis?: string): Promise<boolean> {
    const db = await this.load();
    if (basis !== undefined && historyBasis(await this.query(basisSql(this.config.versionTable))) !== basis)
      return false;
    db.exec('BEGIN');
    try {
      for (const s of statements) db.run(s.sql, s.params as never);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    // Written back once, when the run ends (close()), like every other change.
    this.dirty = true;
    return true;
  }

  async recordRows(rows: VersionRow[]): Promise<boolean> {
    const db = await this.load();
    // The lock file is held for the whole run; checked anyway, as on PostgreSQL.
    if ((await this.query(`SELECT version FROM ${this.config.versionTable} LIMIT 1`)).length > 0) return false;
    db.exec('BEGIN');
    try {
      for (const r of rows)
        db.run(
          insertSql(this.config.versionTable, () => '?'),
          rowValues(r),
        );
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    this.dirty = true;
    return true;
  }

  /** A version's transaction, in memory: written back once, when the run ends (close()). */
  async versionTransaction<T>(fn: (tx: VersionTx) => Promise<T>): Promise<T> {
    // A pending SIGINT/SIGTERM ends the run here, between versions.
    await new Promise((r) => setImmediate(r));
    const db = await this.load();
    const table = this.config.versionTable;
    let wrote = false;
    const tx: VersionTx = {
      execute: async (sql) => {
        wrote = true;
        this.inMemory(() => db.exec(sql));
      },
      recorded: async (version) => {
        const rows = await this.query(`SELECT status, error FROM ${table} WHERE version = ?`, [version]);
        return rows.length
          ? ({
              status: String(rows[0].status),
              error: rows[0].error == null ? null : String(rows[0].error),
            } as RecordedState)
          : null;
      },
      insertRow: async (row) => {
        wrote = true;
        db.run(
          insertSql(table, () => '?'),
          rowValues(row),
        );
      },
      deleteRow: async (version) => {
        wrote = true;
        db.run(`DELETE FROM ${table} WHERE version = ?`, [version]);
      },
      updateRow: async (version, set: RowUpdate) => {
        wrote = true;
        db.run(
          `UPDATE ${table} SET ${Object.keys(set)
            .map((c) => `${c} = ?`)
            .join(', ')} WHERE version = ?`,
          [...Object.values(set), version] as never,
        );
      },
    };
    db.exec('BEGIN');
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      this.rollback(db);
      throw err;
    }
    this.inMemory(() => db.exec('COMMIT'));
    if (wrote) this.dirty = true;
    return result;
  }

  /** A statement's error is the statement's, unless the in-memory file could not grow (outgrown()). */
  stopsRun(err: unknown): boolean {
    return err instanceof ConfigError && this.damagedImage;
  }

  /**
   * Runs sql.js; when its in-memory file cannot grow any more (a RangeError
   * from the allocation, thrown through SQLite's own code), the image is not
   * trusted again: nothing of it is written back, and the run stops with a
   * clear error (exit 3), the file on disk as it was before the run.
   */
  private inMemory<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.damagedImage = true;
      throw outgrown(this.name, this.image?.length ?? 0, err);
    }
  }

  private rollback(db: Database): void {
    try {
      db.exec('ROLLBACK');
    } catch (err) {
      // After an allocation failure inside SQLite, its state is not trusted anyway (damagedImage).
      if (!this.damagedImage) throw err;
    }
  }

  /**
   * A data transaction (metadefs, purge) in memory; committed work is
   * written back at once, or with deferWriteBack at the next flush() (at the
   * latest when the driver closes).
   */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, opts: { deferWriteBack?: boolean } = {}): Promise<T> {
    const db = await this.load();
    const tx: Tx = {
      query: this.query,
      run: async (sql, params = []) => {
        this.inMemory(() => db.run(sql, params as never));
        return db.getRowsModified();
      },
    };
    db.exec('BEGIN');
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      this.rollback(db);
      throw err;
    }
    this.inMemory(() => db.exec('COMMIT'));
    this.dirty = true;
    if (!opts.deferWriteBack) await this.flush();
    return result;
  }

  async flush(): Promise<void> {
    if (this.dirty) await this.persist();
  }

  /** A write-back may replace the file only if it is still the file read, alone, and ours to write. */
  private checkBeforeWrite(): void {
    let st: Stats | null = null;
    try {
      st = lstatSync(this.file);
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
    const found = st ? pendingSidecar(this.file) : null;
    if (found) {
      throw new ConflictError(
        `Another program started writing ${this.name} through SQLite (${'wal' in found ? 'its write-ahead log now holds transactions' : 'it left a hot rollback journal'}) after glance-db read it; glance-db did not overwrite it.`,
        `Stop whatever else writes the database (glance-api, glance-manage), then: ${sidecarError(this.file, this.name, found).hint}`,
      );
    }
    if (!st) return;
    if (st.nlink > 1) {
      throw new FileRefusedError(
        `${this.name} has ${st.nlink} names (hard links): writing it back would replace the file under this name only, and the other names would keep the old database, so glance-db does not. Nothing was changed.`,
        `Find the other names (find / -xdev -samefile ${shellWord(this.file)}), make them symbolic links to this one, and run glance-db again.`,
      );
    }
    let writable = (st.mode & 0o222) !== 0;
    try {
      accessSync(this.file, constants.W_OK);
    } catch {
      writable = false;
    }
    if (!writable) {
      throw new FileRefusedError(
        `${this.name} is read-only (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${st.uid}); glance-db does not replace a file that may not be written. Nothing was changed.`,
        `If it is meant to be upgraded, make it writable for its owner (chmod u+w ${shellWord(this.file)}) and run glance-db again.`,
      );
    }
    const euid = process.geteuid?.() ?? 0;
    if (euid !== 0 && st.uid !== euid) {
      throw new FileRefusedError(
        `${this.name} belongs to user ${st.uid}, and glance-db runs as user ${euid}: the rewritten file would belong to user ${euid}, and its owner might no longer open it. Nothing was changed.`,
        'Run glance-db as the user that owns the database file (or as root), so that owner, group and mode are kept.',
      );
    }
  }

  /**
   * Writes the in-memory image back, refusing if someone else changed the file
   * since we read it: the new file is written beside the old one and locked
   * (SQLite's lock) under its temporary name; then, once the reads in flight
   * on the old file are done (EXCLUSIVE), the file is checked once more and
   * the new one renamed over it. A new database takes the name only if no
   * file has it yet.
   */
  private async persist(): Promise<void> {
    // A pending SIGINT/SIGTERM is handled here, before the write, never during it.
    await new Promise((r) => setImmediate(r));
    this.checkBeforeWrite();
    const existed = this.seen !== null;
    // Never without SQLite's lock on a file that is there (lock() takes it; a file it is not taken on is refused above or in load()).
    if (existed && !this.guard) throw new Error(`write-back of ${this.file} without SQLite's lock`);
    const data = this.exportImage();
    const pending: { tmp: string; hold: SqliteLockHold | null } = { tmp: writeTempFile(this.file, data), hold: null };
    this.pending = pending;
    try {
      pending.hold = SqliteFileLock.lockReplacement(pending.tmp);
      try {
        await this.guard?.exclusiveLock(Date.now() + this.config.lockWaitMs);
      } catch (err) {
        throw this.lockError(err, 'write-back');
      }
      // A signal handled while waiting above ended the process; nothing below yields.
      this.checkBeforeWrite();
      if (this.guard && !this.guard.beforeRename(this.file)) throw changedOnDisk(this.name);
      moveIntoPlace(pending.tmp, this.file, data.length, { noReplace: !existed });
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
    this.dirty = false;
  }

  /**
   * The whole database as bytes: the file sql.js keeps in memory, as it is,
   * when it is whole (no transaction open, every committed page in it, no
   * WAL); otherwise, which nothing here leads to, sql.js's export() (a copy
   * through SQLite's backup API). A clear error when the database has outgrown
   * what one buffer holds.
   */
  private exportImage(): Uint8Array {
    const db = this.db!;
    const pragma = (p: string) => db.exec(`PRAGMA ${p}`)[0]?.values[0]?.[0];
    const expected = Number(pragma('page_count')) * Number(pragma('page_size'));
    if (this.image && this.image.length === expected && pragma('journal_mode') !== 'wal' && !inTransaction(db)) {
      return this.image.bytes.subarray(0, this.image.length);
    }
    try {
      return db.export();
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      throw outgrown(this.name, expected, err);
    }
  }

  /**
   * Ends the run: the one write-back of what was committed (also when a
   * version failed: the versions before it were committed), then the lock.
   */
  async close(): Promise<void> {
    try {
      if (this.db && this.dirty && !this.damagedImage) await this.persist();
    } finally {
      this.dirty = false;
      this.db?.close();
      this.db = null;
      this.image = null;
      await this.unlock();
    }
  }
}

const GiB = 1024 ** 3;

/** The in-memory file behind db (null if sql.js ever keeps it elsewhere: then write-backs export a copy). */
function imageOf(SQL: SqlJsStatic, db: Database): GlanceDbFile | null {
  try {
    return SQL.glanceDbFile(`/${(db as Database & { filename: string }).filename}`);
  } catch {
    return null;
  }
}

/** The database outgrew what sql.js holds in one buffer: exit 3, nothing written back. */
function outgrown(name: string, bytes: number, err: RangeError): ConfigError {
  return new ConfigError(
    `${name} has grown${bytes ? ` past ${(bytes / GiB).toFixed(2)} GiB` : ''} during the upgrade, more than the embedded SQLite engine (sql.js) can hold in one buffer (${err.message}). The file on disk was left as it was before this run; \`glance-db version\` shows its version.`,
    { cause: err, hint: TOO_LARGE_HINT },
  );
}

/** Whether a transaction is open on db (sql.js has no sqlite3_get_autocommit): BEGIN fails inside one. */
function inTransaction(db: Database): boolean {
  try {
    db.exec('BEGIN');
  } catch {
    return true;
  }
  db.exec('ROLLBACK');
  return false;
}

/**
 * Room for the database to grow in place in memory: an upgrade from 44 to 51
 * grows a catalogue by about a tenth. Memory never written is not taken.
 */
const ROOM_TO_GROW = (size: number) => Math.ceil(size / 4 / 65536) * 65536;

const TOO_LARGE_HINT =
  'Upgrade a database this large on PostgreSQL or MySQL, or apply the reviewed SQL files (glance-db plan) with the sqlite3 command-line tool.';

/** The whole file, or a clear error when it cannot be held in memory (sql.js works on an in-memory image). */
function readSqliteFile(path: string, name: string, read = () => readWholeFile(path, ROOM_TO_GROW)): Buffer {
  try {
    return read();
  } catch (err) {
    if (err instanceof NotRegularFileError) throw notRegular(name, null);
    if (!(err instanceof FileTooLargeError)) throw err;
    throw new ConfigError(
      `${name} is ${(err.size / GiB).toFixed(2)} GiB: the embedded SQLite engine (sql.js) holds the whole file in memory, and one buffer holds at most ${(MAX_WHOLE_FILE / GiB).toFixed(0)} GiB. Nothing was changed.`,
      { hint: TOO_LARGE_HINT },
    );
  }
}
