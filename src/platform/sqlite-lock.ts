// SQLite's own lock on a database file, for the programs that are not
// glance-db: glance-api, glance-manage, the sqlite3 shell, Python's sqlite3.
// glance-db works on a copy in memory (sql.js) and replaces the file by a
// rename; its flock on FILE.lock (file-lock.ts) orders glance-db runs, but
// other programs know only SQLite's locking protocol: POSIX advisory locks
// on bytes of the database file itself. node:sqlite is real SQLite, and one
// of its connections holding a transaction open holds those locks as every
// other SQLite sees them. The connection is there for the lock alone: it
// never writes, never makes a journal, never reads a table.
//
// A file in rollback-journal mode (Glance's default):
//  - first a read-only connection runs SQLite's hot-journal test, which in a
//    read-only connection answers SQLITE_READONLY_ROLLBACK instead of rolling
//    the journal back: glance-db refuses a hot journal (exit 21), it never
//    plays one back;
//  - then BEGIN IMMEDIATE: the RESERVED lock, held from before glance-db
//    reads the file until the file is replaced. Other writers get
//    SQLITE_BUSY ("database is locked", after their busy timeout); readers
//    go on reading;
//  - at each write-back, BEGIN EXCLUSIVE (the connection is in exclusive
//    locking mode, so RESERVED is kept across the ROLLBACK before it): it
//    waits for the reads in flight, and the kernel then vouches that no other
//    process holds any lock on the file, whatever became of this process's own
//    (see the descriptor below); the driver checks the file is the one it
//    read, and renames;
//  - the replacement is locked (RESERVED) under its temporary name before it
//    is renamed into place, so the file at the path is never without the lock
//    between write-backs.
// A program that kept the old file open and writes after the rename gets
// SQLITE_READONLY_DBMOVED ("attempt to write a readonly database") from its
// own SQLite, which checks that the file still has its name before it starts
// a journal: an error it sees, never a write into the replaced file.
//
// A file in WAL mode: a WAL connection keeps a lock for as long as it is
// open, writes through FILE-wal and FILE-shm, and does not look for a moved
// file; one left open across a rename would append its transactions to a log
// beside the new file. So glance-db holds EXCLUSIVE for the whole run, which
// it gets only when no other program has the file open, in exclusive locking
// mode (no FILE-shm is made), removes the empty FILE-wal its connection made
// before it renames the new file (rollback-journal mode) into place, and
// marks the replaced file as rollback-journal mode for a program that opened
// it before the rename but reads it only after (retire()).
//
// POSIX locks belong to a process and an inode, and closing ANY descriptor of
// the file drops them all. So the file is opened once here, after the lock is
// taken, and whatever in glance-db reads the file while it is locked reads
// through that descriptor (read(), heldDescriptor()), closed after the
// connection. The EXCLUSIVE step above is the safety net should a stray
// close() drop the locks anyway: the write-back then refuses (exit 10)
// rather than overwrite what another writer committed meanwhile.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { readWholeDescriptor } from './read-whole.js';
import { connect, type Hold, isBusy, openError, pause, probe, register, releaseHold, slice } from './sqlite-holds.js';

/** Whether a SQLite header (the first 20 bytes or more) says WAL mode. */
export const walHeader = (head: Uint8Array) => head.length >= 20 && (head[18] === 2 || head[19] === 2);

export class SqliteFileLock {
  /** The connection holds EXCLUSIVE (WAL mode: from the start; otherwise from a write-back's check to its rename). */
  private exclusive: boolean;
  /** WAL mode: the file opened for writing just before the rename (retire()), closed after the connection. */
  private oldFd: number | null = null;

  private constructor(
    private hold: Hold,
    private wal: boolean,
  ) {
    this.exclusive = wal;
  }

  /**
   * Takes SQLite's lock on path (an existing SQLite file glance-db may write),
   * waiting until deadline: RESERVED in rollback-journal mode, EXCLUSIVE in
   * WAL mode. SqliteLockTimeout when the deadline passes, HotJournalError,
   * SqliteOpenError.
   */
  static async acquire(path: string, deadline: number, wal: boolean): Promise<SqliteFileLock> {
    for (;;) {
      if (!wal && !probe(path, deadline)) {
        await pause(deadline);
        continue;
      }
      const db = connect(path);
      try {
        db.exec(`PRAGMA busy_timeout = ${slice(deadline)}`);
        if (wal) {
          // Before the first read, so that the WAL is opened without FILE-shm, and
          // EXCLUSIVE only: a WAL reader's lock is the same as a writer's.
          db.exec('PRAGMA locking_mode = EXCLUSIVE');
          db.exec('BEGIN EXCLUSIVE');
        } else {
          db.exec('BEGIN IMMEDIATE');
          // After it, never before: a failed attempt in exclusive locking mode keeps its
          // SHARED lock, and a writer waiting to commit would wait on it in vain.
          db.exec('PRAGMA locking_mode = EXCLUSIVE');
        }
      } catch (err) {
        db.close();
        if (!isBusy(err)) throw openError(err);
        await pause(deadline);
        continue;
      }
      const lock = new SqliteFileLock(register(db, path), wal);
      if (!wal && walHeader(lock.header(20))) {
        // Switched to WAL mode by another program between the look and the lock: again, as WAL.
        lock.release();
        wal = true;
        continue;
      }
      return lock;
    }
  }

  /**
   * Locks the replacement file under its temporary name, before it is renamed
   * into place: no other program knows that name yet, so this never waits.
   */
  static lockReplacement(tmp: string): Hold {
    const db = connect(tmp);
    try {
      db.exec('PRAGMA busy_timeout = 0');
      db.exec('BEGIN IMMEDIATE');
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
    } catch (err) {
      db.close();
      throw openError(err);
    }
    return register(db, tmp);
  }

  /** A lock on a file glance-db has just created (there was none to take over). */
  static of(hold: Hold): SqliteFileLock {
    return new SqliteFileLock(hold, false);
  }

  /** The whole file, read through the lock's descriptor. */
  read(path: string, room: (size: number) => number): Buffer {
    return readWholeDescriptor(this.hold.fd, path, room);
  }

  /** The first n bytes of the locked file. */
  header(n: number): Buffer {
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(this.hold.fd, head, 0, n, 0));
  }

  /** The locked file's inode and status (the file at the path, unless something replaced it). */
  stat() {
    return fstatSync(this.hold.fd);
  }

  /**
   * Before a write-back: waits (until deadline) for the reads in flight, then
   * holds EXCLUSIVE: no other process holds any lock on the file, as the
   * kernel sees it. SqliteLockTimeout when readers kept it past the deadline.
   */
  async exclusiveLock(deadline: number): Promise<void> {
    if (this.exclusive) return;
    // In exclusive locking mode, RESERVED stays after this.
    this.hold.db.exec('ROLLBACK');
    for (;;) {
      try {
        this.hold.db.exec(`PRAGMA busy_timeout = ${slice(deadline)}`);
        this.hold.db.exec('BEGIN EXCLUSIVE');
        this.exclusive = true;
        return;
      } catch (err) {
        if (!isBusy(err)) throw openError(err);
        await pause(deadline);
      }
    }
  }

  /**
   * Just before the rename. WAL mode: removes the FILE-wal this connection
   * made (empty: no other program could open it), so that the new file, in
   * rollback-journal mode, is not opened in WAL mode by the next program, and
   * opens the old file for writing, for retire(). Returns false if FILE-wal
   * holds anything (not this lock's) or the path no longer names this file.
   */
  beforeRename(path: string): boolean {
    if (!this.wal) return true;
    let size: number | null = null;
    try {
      size = lstatSync(`${path}-wal`).size;
    } catch {
      // None.
    }
    if (size !== null && size > 0) return false;
    if (this.oldFd === null) {
      const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
      // Kept open until the connection is closed, like every descriptor of a locked file.
      this.oldFd = fd;
      if (fstatSync(fd).ino !== this.hold.ino) return false;
    }
    if (size !== null) unlinkSync(`${path}-wal`);
    return true;
  }

  /**
   * After the rename, WAL mode: the replaced file, which a program that
   * opened it before the rename may still read, is marked as being in
   * rollback-journal mode (header bytes 18 and 19). Such a program would
   * otherwise, as soon as this lock is gone, open FILE-wal beside the NEW
   * file and write the OLD file's pages into it, which the next program to
   * open the new file would take for its own (lost rows, a malformed file);
   * in rollback-journal mode its SQLite checks that the file still has its
   * name before it writes, and fails (SQLITE_READONLY_DBMOVED). Nothing
   * reaches the replaced file's content otherwise: only such programs see it.
   */
  private retire(): void {
    if (this.oldFd === null) return;
    writeSync(this.oldFd, Buffer.from([1, 1]), 0, 2, 18);
  }

  /** After the rename: the replaced file's lock goes, the replacement's is this lock from now on. */
  adopt(next: Hold): void {
    this.retire();
    const old = this.hold;
    const oldFd = this.oldFd;
    this.hold = next;
    this.oldFd = null;
    this.wal = false;
    this.exclusive = false;
    releaseHold(old);
    if (oldFd !== null) closeSync(oldFd);
  }

  release(): void {
    releaseHold(this.hold);
    if (this.oldFd !== null) {
      closeSync(this.oldFd);
      this.oldFd = null;
    }
  }
}
