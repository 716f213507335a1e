// Files glance-db writes on request (plan --output, lint --update's
// sql/checksums.lock, --backup-dir): a failure is a documented condition
// (exit 34) with the reason in words, never an internal error.
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OutputError } from '../errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'it goes through a loop of symbolic links',
};

export function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  return (code && REASONS[code]) ?? (code ? `error ${code}` : String((err as Error)?.message ?? err));
}

/** Writes a whole file, or throws OutputError saying why not. */
export function writeOutputFile(path: string, data: string, what: string, hint?: string): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(dirname(resolve(path))) ? `${dirname(resolve(path))} does not take new files` : reasonOf(err);
    throw new OutputError(`Cannot write ${what} ${path}: ${why}. Nothing was written.`, hint);
  }
}

/**
 * Makes sure a backup folder is usable: a folder glance-db may write in, or
 * one it can create (created here, one level at a time and private to its
 * owner: Node's recursive mkdir spins forever under /proc). Called before the
 * database is opened, so that a bad --backup-dir changes nothing.
 */
export function checkBackupDir(dir: string): void {
  const fail = (why: string) => new OutputError(`The backup folder ${dir} cannot be used: ${why}. Nothing was changed.`,
    'Pass --backup-dir with a folder glance-db can create or write in.');
  const target = resolve(dir);
  const missing: string[] = [];
  let p = target;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && dirname(p) !== p) {
        missing.unshift(p);
        p = dirname(p);
        continue;
      }
      throw fail(reasonOf(err));
    }
    if (!st.isDirectory()) throw fail(p === target ? 'it is a file, not a folder' : `${p} is a file, not a folder`);
    try {
      accessSync(p, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw fail(`${p}: ${reasonOf(err)}`);
    }
    break;
  }
  for (const m of missing) {
    try {
      mkdirSync(m, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fail(`${m} cannot be created: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file system refuses it' : reasonOf(err)}`);
    }
  }
}
