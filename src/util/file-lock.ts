// An exclusive lock file (O_EXCL create) holding the owner's pid and host.
// A lock whose owner died on this host is taken over without anyone having to
// delete it by hand (Liquibase issues 1453, 1311).
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { LockedError } from '../errors.js';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

const POLL_MS = 50;

function tryCreate(lockPath: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return true;
}

function readInfo(path: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed?.pid === 'number' ? (parsed as LockInfo) : null;
  } catch {
    return null;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves a dead owner's lock aside. The rename is atomic, so of several
 * waiters only one gets the stale file; if what it got is not the stale lock
 * it saw (another waiter already replaced it), it puts it back.
 */
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

function isStale(info: LockInfo | null): info is LockInfo {
  return info !== null && info.host === hostname() && !isProcessAlive(info.pid);
}

/** Waits up to waitMs for the lock; returns the function that releases it. */
export async function acquireFileLock(lockPath: string, waitMs: number, what: string): Promise<() => void> {
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(lockPath, me)) return () => release(lockPath, me);
    const owner = readInfo(lockPath);
    if (isStale(owner)) {
      takeOverStale(lockPath, owner);
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(lockPath, owner, waitMs, what);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function release(lockPath: string, me: LockInfo): void {
  const owner = readInfo(lockPath);
  if (owner && owner.pid === me.pid && owner.startedAt === me.startedAt) {
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone.
    }
  }
}

function lockedError(lockPath: string, owner: LockInfo | null, waitMs: number, what: string): LockedError {
  const who = owner ? `glance-db process ${owner.pid} on ${owner.host}, since ${owner.startedAt}` : 'another process';
  return new LockedError(`${what} is locked by ${who}; gave up after waiting ${Math.round(waitMs / 1000)} s (lock file ${lockPath}).`,
    owner && owner.host !== hostname()
      ? `The owner runs on another host; if it is gone, delete ${lockPath}.`
      : 'Wait for that run to finish and try again, or raise --lock-wait.');
}
