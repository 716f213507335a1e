// The node:sqlite connections that hold SQLite's own locks for glance-db
// (src/platform/sqlite-lock.ts says why and when): loading node:sqlite, what
// its errors mean, every hold this process has (released at exit, and the
// descriptor readers go through), the hot-journal probe and the read under
// SQLite's shared lock.
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';

type NodeSqlite = typeof import('node:sqlite');

let nodeSqlite: NodeSqlite | null = null;

/** node:sqlite, loaded on first use; Node 22 announces it with an ExperimentalWarning that is not for glance-db's users. */
function sqlite(): NodeSqlite {
  if (nodeSqlite) return nodeSqlite;
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'ExperimentalWarning' && /sqlite/i.test(String(warning))) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    nodeSqlite = process.getBuiltinModule('node:sqlite') as NodeSqlite;
  } finally {
    process.emitWarning = emit;
  }
  return nodeSqlite;
}

/** How long one attempt waits inside SQLite's busy handler; between attempts, signals are handled. */
const SLICE_MS = 50;

/** The lock was not granted before the deadline (--lock-wait). */
export class SqliteLockTimeout extends Error {}

/** A hot rollback journal is beside the file: SQLite would have to roll it back first. */
export class HotJournalError extends Error {}

/** SQLite cannot open or lock the file for another reason than a lock (damaged, not a database, permission). */
export class SqliteOpenError extends Error {
  constructor(
    message: string,
    readonly damaged: boolean,
  ) {
    super(message);
  }
}

const codeOf = (err: unknown): number | null =>
  typeof (err as { errcode?: unknown })?.errcode === 'number' ? (err as { errcode: number }).errcode : null;
const messageOf = (err: unknown) => String((err as Error)?.message ?? err);

/** SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock that stands in the way. */
export function isBusy(err: unknown): boolean {
  const code = codeOf(err);
  return code !== null ? [5, 6].includes(code & 0xff) : /database (table )?is locked/i.test(messageOf(err));
}

/** SQLITE_READONLY_ROLLBACK: a read-only connection found a hot journal. */
function isHotJournal(err: unknown): boolean {
  const code = codeOf(err);
  return code !== null ? code === 776 : /readonly database/i.test(messageOf(err));
}

export function openError(err: unknown): SqliteOpenError {
  const code = codeOf(err);
  const message = messageOf(err);
  return new SqliteOpenError(
    message,
    code !== null ? [11, 26].includes(code & 0xff) : /malformed|not a database|disk image/i.test(message),
  );
}

export function connect(path: string, readOnly = false): DatabaseSync {
  try {
    return new (sqlite().DatabaseSync)(path, { readOnly });
  } catch (err) {
    throw openError(err);
  }
}

/** Waits a moment before the next attempt, or gives up at the deadline. */
export async function pause(deadline: number): Promise<void> {
  const left = deadline - Date.now();
  if (left <= 0) throw new SqliteLockTimeout();
  await new Promise((r) => setTimeout(r, Math.min(left, 10 + Math.random() * 40)));
}

export const slice = (deadline: number) => Math.max(0, Math.min(SLICE_MS, deadline - Date.now()));

export interface Hold {
  db: DatabaseSync;
  /** The descriptor glance-db reads the locked file through (never closed while the lock is held). */
  fd: number;
  dev: number;
  ino: number;
}

/** Every lock this process holds, so that none outlives it and readers find the descriptor. */
const live = new Set<Hold>();
let exitHook = false;

export function register(db: DatabaseSync, path: string): Hold {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    db.close();
    throw err;
  }
  const st = fstatSync(fd);
  const hold = { db, fd, dev: st.dev, ino: st.ino };
  if (!exitHook) {
    exitHook = true;
    process.on('exit', releaseAll);
  }
  live.add(hold);
  return hold;
}

/** The connection first (SQLite defers its own close while it holds locks), then the descriptor. */
export function releaseHold(hold: Hold): void {
  if (!live.delete(hold)) return;
  try {
    hold.db.close();
  } catch {
    // Already closed.
  }
  try {
    closeSync(hold.fd);
  } catch {
    // Already closed.
  }
}

function releaseAll(): void {
  for (const hold of [...live]) releaseHold(hold);
}

/**
 * The descriptor of a locked file, if path names one this process holds:
 * code that must read such a file (the SQLite --backup copy) reads through
 * it instead of opening, and later closing, a descriptor of its own.
 */
export function heldDescriptor(path: string): number | null {
  if (live.size === 0) return null;
  let st;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  for (const hold of live) if (hold.dev === st.dev && hold.ino === st.ino) return hold.fd;
  return null;
}

/**
 * SQLite's hot-journal test in a read-only connection (which cannot roll a
 * journal back): true when the file is readable now, false when a writer is
 * committing (try again); HotJournalError for a hot journal.
 */
export function probe(path: string, deadline: number): boolean {
  const db = connect(path, true);
  try {
    db.exec(`PRAGMA busy_timeout = ${slice(deadline)}`);
    db.prepare('PRAGMA schema_version').get();
    return true;
  } catch (err) {
    if (isBusy(err)) return false;
    if (isHotJournal(err)) throw new HotJournalError();
    throw openError(err);
  } finally {
    db.close();
  }
}

/**
 * Reads a file in rollback-journal mode under SQLite's SHARED lock, as any
 * SQLite reader would: a writer's commit waits (its busy timeout) for the
 * length of the read, no longer; a hot journal is HotJournalError, never
 * rolled back; a writer in the middle of a commit is waited for until the
 * deadline.
 */
export async function readShared<T>(path: string, deadline: number, read: (fd: number) => T): Promise<T> {
  for (;;) {
    const db = connect(path, true);
    try {
      db.exec(`PRAGMA busy_timeout = ${slice(deadline)}`);
      db.exec('BEGIN');
      db.prepare('PRAGMA schema_version').get();
    } catch (err) {
      db.close();
      if (isHotJournal(err)) throw new HotJournalError();
      if (!isBusy(err)) throw openError(err);
      await pause(deadline);
      continue;
    }
    let fd: number | null = null;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      return read(fd);
    } finally {
      db.close();
      if (fd !== null) closeSync(fd);
    }
  }
}

export type { Hold as SqliteLockHold };
