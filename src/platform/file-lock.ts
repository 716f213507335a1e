// The SQLite migration lock: an OS lock (flock) on a lock file, so that a
// dead holder is known for certain. The kernel drops a flock lock when the
// last descriptor of its open file goes away, which happens when the holder
// exits however it exits (kill -9, a container stopped, a crash): nothing is
// judged from process ids or host names, so PID namespaces (glance-db as PID
// 1 in a container) and reused PIDs cannot fool it, and a lock file whose
// content is empty or garbage is never "taken over" on the strength of it.
//
// Node has no flock API and glance-db has no native addon, so the lock is
// taken by util-linux's flock(1) on a descriptor it inherits from us:
// `flock -x -w SECS 3` locks the open file description that glance-db's own
// descriptor shares, then exits; the lock stays with glance-db's descriptor.
// Cost: one short child process per run (docs/reliability.md). Where flock(1)
// is missing, the older lock is used: an O_EXCL file holding pid and host.
//
// The lock file is created with O_CREAT|O_NOFOLLOW (a planted symbolic link
// is refused, never followed), must be a regular file with one link, and is
// written only through the descriptor that was checked.
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { FileRefusedError, LockedError } from './errors.js';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

const POLL_MS = 50;
const TIMED_OUT = 75;

/** flock(1) from util-linux, or null where it is not installed. */
export function flockBinary(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'flock'), constants.X_OK);
      return join(dir, 'flock');
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

function readInfo(path: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed?.pid === 'number' ? (parsed as LockInfo) : null;
  } catch {
    return null;
  }
}

/**
 * Opens (creating if need be) the lock file without following a link; it must
 * be a regular file with a single name. Returns the descriptor and whether it
 * may be written (a lock file glance-db cannot write is still locked, read-only:
 * flock needs no write access).
 */
function openLockFile(lockPath: string, what: string): { fd: number; writable: boolean } {
  const base = constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let fd: number;
  let writable = true;
  try {
    fd = openSync(lockPath, base | constants.O_RDWR, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      try {
        fd = openSync(lockPath, constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_RDONLY);
        writable = false;
      } catch {
        throw lockFileError(lockPath, what, err as NodeJS.ErrnoException);
      }
    } else throw lockFileError(lockPath, what, err as NodeJS.ErrnoException);
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw new FileRefusedError(
      `The lock file ${lockPath} is ${st.isFile() ? `a regular file with ${st.nlink} names (a hard link)` : 'not a regular file'}; glance-db does not lock or write through it. Nothing was changed.`,
      `Remove ${lockPath} (no glance-db run leaves it like that) and run glance-db again; check who can write to that folder.`,
    );
  }
  return { fd, writable };
}

function lockFileError(lockPath: string, what: string, err: NodeJS.ErrnoException): FileRefusedError {
  const why =
    err.code === 'ELOOP'
      ? 'is a symbolic link, which glance-db never follows for a file it creates'
      : err.code === 'EACCES' || err.code === 'EPERM'
        ? 'cannot be created or opened: permission denied'
        : err.code === 'EROFS'
          ? 'cannot be created: the file system is read-only'
          : err.code === 'ENOSPC'
            ? 'cannot be created: the disk is full'
            : `cannot be created or opened (${err.code ?? err.message})`;
  return new FileRefusedError(
    `${what} cannot be locked: the lock file ${lockPath} ${why}. Nothing was changed.`,
    err.code === 'ELOOP'
      ? `Remove the link ${lockPath} (glance-db never makes one) and check who can write to that folder.`
      : 'glance-db needs to create FILE.lock beside the SQLite file: run it as a user who can write that folder, or on a writable file system.',
  );
}

/** Runs flock(1) on fd; resolves true when the lock is held, false when waitMs ran out. */
function flockOn(bin: string, fd: number, waitMs: number): Promise<boolean> {
  const wait = waitMs > 0 ? ['--timeout', (waitMs / 1000).toFixed(3)] : ['--nonblock'];
  return new Promise((resolve, reject) => {
    // No pipes: waiting for them to close costs more than the child itself.
    const child = spawn(bin, ['--exclusive', ...wait, '--conflict-exit-code', String(TIMED_OUT), '3'], {
      stdio: ['ignore', 'ignore', 'ignore', fd],
    });
    child.on('error', (err) =>
      reject(
        new LockedError(
          `The lock could not be taken: flock(1) did not start (${err.message}).`,
          'Check that util-linux is installed.',
        ),
      ),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(true);
      else if (code === TIMED_OUT) resolve(false);
      else
        reject(
          new LockedError(
            `The lock could not be taken: flock(1) on the lock file ended with ${code ?? signal}.`,
            'Run glance-db again; if this repeats, check that the lock file is on a local or NFS file system that supports flock.',
          ),
        );
    });
  });
}

/** The descriptor still names the file at lockPath (a run that released it may have removed it meanwhile). */
function stillThere(fd: number, lockPath: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = lstatSync(lockPath);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** Waits up to waitMs for the lock; returns the function that releases it. */
export async function acquireFileLock(lockPath: string, waitMs: number, what: string): Promise<() => void> {
  const bin = flockBinary();
  if (!bin) return acquirePidLock(lockPath, waitMs, what);
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { fd, writable } = openLockFile(lockPath, what);
    let held: boolean;
    try {
      held = await flockOn(bin, fd, Math.max(0, deadline - Date.now()));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (!held) {
      closeSync(fd);
      throw lockedError(lockPath, readInfo(lockPath), waitMs, what);
    }
    if (!stillThere(fd, lockPath)) {
      // Locked a file the previous holder removed on release: lock the current one.
      closeSync(fd);
      continue;
    }
    if (writable) {
      // For people and messages only: who holds it. Liveness is the kernel's.
      ftruncateSync(fd, 0);
      writeSync(fd, JSON.stringify(me), 0);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Removed while still locked, so a waiter that locked this file sees it gone and retries.
      if (stillThere(fd, lockPath)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Left behind: harmless, an unlocked lock file is not a lock.
        }
      }
      closeSync(fd);
    };
  }
}

// The fallback where flock(1) is missing: an O_EXCL file with pid and host; a
// lock whose owner died on this host is taken over, empty or unparseable
// content never is.

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(lockPath: string, info: LockInfo, what: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw lockFileError(lockPath, what, err as NodeJS.ErrnoException);
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return true;
}

function takeOverStale(lockPath: string, stale: LockInfo): void {
  const aside = `${lockPath}.stale.${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return;
  }
  const got = readInfo(aside);
  if (got && (got.pid !== stale.pid || got.startedAt !== stale.startedAt)) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // A newer lock exists already; the one we moved was superseded.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Nothing to clean.
  }
}

async function acquirePidLock(lockPath: string, waitMs: number, what: string): Promise<() => void> {
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(lockPath, me, what)) {
      return () => {
        const owner = readInfo(lockPath);
        if (owner && owner.pid === me.pid && owner.startedAt === me.startedAt) {
          try {
            unlinkSync(lockPath);
          } catch {
            // Already gone.
          }
        }
      };
    }
    const owner = readInfo(lockPath);
    if (owner !== null && owner.host === hostname() && !isProcessAlive(owner.pid)) {
      takeOverStale(lockPath, owner);
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(lockPath, owner, waitMs, what);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function lockedError(lockPath: string, owner: LockInfo | null, waitMs: number, what: string): LockedError {
  const who = owner ? `glance-db process ${owner.pid} on ${owner.host}, since ${owner.startedAt}` : 'another process';
  return new LockedError(
    `${what} is locked by ${who}; gave up after waiting ${Math.round(waitMs / 1000)} s (lock file ${lockPath}).`,
    'Wait for that run to finish and try again, or raise --lock-wait. The lock is held only while that process lives; deleting the lock file does not stop it.',
  );
}
