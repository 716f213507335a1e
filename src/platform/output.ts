// Files glance-db writes on request (plan --output, snapshot, lint --update's
// sql/checksums.lock, metadefs export, --backup): one primitive for all of
// them, because the folder may be shared with someone who plants things in it
// (/tmp, a shared folder, the glance user's folder while root runs glance-db).
// A failure is a documented condition (exit 34 unless the caller says
// otherwise) with the reason in words, never an internal error.
//
// How a file is written (writeOutputFile):
// - The folder is walked one component at a time with lstat, from `/`: a
//   symbolic link among the folders is followed only when it belongs to the
//   user running glance-db or to root (the kernel's protected_symlinks rule in
//   spirit); anything that is not a folder stops the walk. Missing folders
//   are created one level at a time (Node's recursive mkdir spins forever
//   under /proc) when the caller allows it.
// - The folder reached must not be in /proc, /sys or /dev, nor on a kernel
//   file system (proc, sysfs, cgroup...), nor inside glance-db's installed
//   package (unless that is a git checkout: a developer's working tree).
// - The folder is opened once (O_DIRECTORY|O_NOFOLLOW) and must be the one
//   the walk checked (device and inode); every later step goes through that
//   descriptor (/proc/self/fd/N/NAME, Linux's openat), so renaming a folder
//   of the path or swapping it for a link meanwhile changes nothing.
// - The name itself: a symbolic link, a folder, a pipe, a socket or a device
//   there is refused (lstat: nothing is opened, nothing blocks); a regular
//   file is replaced (never written through, so another name of it, a hard
//   link, keeps its content), or refused when the caller never replaces.
// - The content goes to a new file under a random name in the same folder,
//   created O_CREAT|O_EXCL|O_NOFOLLOW (nothing planted is ever opened), given
//   its mode with fchmod (0644, or 0600 for backups, less the umask; owner:
//   the user running glance-db), written, fsync'd, then renamed over the name
//   and the folder fsync'd. No owner or mode is taken from what was there.
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError, type GlanceDbError } from './errors.js';
import { checkName, openFolder, reasonOf, Refused, walkFolder, type Folder } from './output-place.js';

/** Room for tests to act at the moments an attacker would. */
export interface OutputHooks {
  /** The temporary file's name (normally random), per attempt. */
  tempName?: (name: string, attempt: number) => string;
  /** Called after the content is written and before the rename. */
  beforeRename?: () => void;
}

export interface OutputOptions {
  /** Mode of the new file, less the umask: 0o644 by default; backups 0o600. */
  mode?: number;
  /** Make missing folders with this mode (less the umask); null (default): the folder must exist. */
  createFolders?: number | null;
  /** Replace a regular file of that name (default); false: refuse it. */
  replace?: boolean;
  /** The error to throw, from the reason in words; default OutputError (exit 34). */
  fail?: (why: string) => GlanceDbError;
  hooks?: OutputHooks;
}

const TEMP_INFIX = '.glance-db-';

function failWith(path: string, what: string, hint: string | undefined, opts: OutputOptions) {
  return (why: string, instead?: string) =>
    opts.fail?.(why) ?? new OutputError(`Cannot write ${what} ${path}: ${why}. Nothing was written.`, instead ?? hint);
}

/** Opens a new temporary file in the folder; returns its descriptor and name. */
function openTemp(folder: Folder, name: string, mode: number, hooks: OutputHooks): { fd: number; temp: string } {
  for (let attempt = 0; ; attempt++) {
    const temp = hooks.tempName?.(name, attempt) ?? `.${name}${TEMP_INFIX}${randomBytes(12).toString('hex')}.tmp`;
    try {
      const fd = openSync(
        join(folder.via, temp),
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        0o600,
      );
      try {
        fchmodSync(fd, mode & ~process.umask());
      } catch (err) {
        closeSync(fd);
        unlinkSync(join(folder.via, temp));
        throw err;
      }
      return { fd, temp };
    } catch (err) {
      // Something is at that name (planted, or a one-in-2^96 collision): another name.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw err;
    }
  }
}

/** A file being written: its folder, its name and the temporary file. */
interface Pending {
  folder: Folder;
  name: string;
  temp: string | null;
  fd: number | null;
  opts: OutputOptions;
  fail: (why: string, instead?: string) => GlanceDbError;
}

function begin(path: string, what: string, hint: string | undefined, opts: OutputOptions): Pending {
  const fail = failWith(path, what, hint, opts);
  const name = basename(path);
  if (!name || name === '.' || name === '..' || /[/\\]$/.test(path)) throw fail('it names a folder, not a file');
  let folder: Folder;
  try {
    folder = openFolder(dirname(resolve(path)), opts.createFolders ?? null);
  } catch (err) {
    throw err instanceof Refused ? fail(err.message, err.hint) : fail(reasonOf(err));
  }
  const p: Pending = { folder, name, temp: null, fd: null, opts, fail };
  try {
    checkName(folder, name, opts.replace ?? true);
    const t = openTemp(folder, name, opts.mode ?? 0o644, opts.hooks ?? {});
    p.temp = t.temp;
    p.fd = t.fd;
  } catch (err) {
    abort(p, err);
  }
  return p;
}

function commit(p: Pending): void {
  if (p.fd !== null) {
    fsyncSync(p.fd);
    closeSync(p.fd);
    p.fd = null;
  }
  p.opts.hooks?.beforeRename?.();
  // Checked again: what appeared meanwhile is refused as it would have been (rename never follows a link either way).
  checkName(p.folder, p.name, p.opts.replace ?? true);
  renameSync(join(p.folder.via, p.temp!), join(p.folder.via, p.name));
  p.temp = null;
  fsyncSync(p.folder.fd);
  p.folder.open = false;
  closeSync(p.folder.fd);
}

/** Removes the temporary file and closes what is open; throws the caller's error for err. */
function abort(p: Pending, err: unknown): never {
  if (p.fd !== null) closeSync(p.fd);
  if (p.temp !== null) {
    try {
      unlinkSync(join(p.folder.via, p.temp));
    } catch {
      // Gone already.
    }
  }
  if (p.folder.open) closeSync(p.folder.fd);
  if (err instanceof Refused) throw p.fail(err.message, err.hint);
  if (err instanceof Error && 'exitCode' in err) throw err;
  throw p.fail(reasonOf(err));
}

/**
 * Writes a file the safe way (see the top of this file): `write` fills the
 * new file through its descriptor. Returns once the file is in place.
 */
export async function writeOutputFileWith(
  path: string,
  write: (fd: number) => Promise<void>,
  what: string,
  hint?: string,
  opts: OutputOptions = {},
): Promise<void> {
  const p = begin(path, what, hint, opts);
  try {
    await write(p.fd!);
    commit(p);
  } catch (err) {
    abort(p, err);
  }
}

/** Writes a whole file the safe way (see the top of this file). */
export function writeOutputFile(
  path: string,
  data: string | Uint8Array,
  what: string,
  hint?: string,
  opts: OutputOptions = {},
): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const p = begin(path, what, hint, opts);
  try {
    writeAll(p.fd!, bytes);
    commit(p);
  } catch (err) {
    abort(p, err);
  }
}

/** Writes all of bytes at the descriptor: one write call takes at most 2 GiB - 1 bytes. */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 30));
}

/**
 * Writes several files the safe way, all or none as far as a refusal goes:
 * every file's name is checked and its temporary file written first, and
 * only then are they renamed into place, so that a refused name (a link, a
 * folder, a device) among them leaves none of the files written.
 */
export function writeOutputFiles(
  files: { path: string; data: string | Uint8Array; opts?: OutputOptions }[],
  what: string,
  hint?: string,
): void {
  const pending: Pending[] = [];
  try {
    for (const f of files) {
      const bytes = typeof f.data === 'string' ? Buffer.from(f.data) : f.data;
      const p = begin(f.path, what, hint, f.opts ?? {});
      pending.push(p);
      writeAll(p.fd!, bytes);
      // Flushed and closed now: only the folders stay open until the renames.
      fsyncSync(p.fd!);
      closeSync(p.fd!);
      p.fd = null;
    }
  } catch (err) {
    const last = pending.pop();
    for (const p of pending) discard(p);
    if (last) abort(last, err);
    throw err;
  }
  for (let i = 0; i < pending.length; i++) {
    try {
      commit(pending[i]);
    } catch (err) {
      for (const p of pending.slice(i + 1)) discard(p);
      abort(pending[i], err);
    }
  }
}

/** Removes a pending file's temporary file and closes what it holds open, without throwing. */
function discard(p: Pending): void {
  try {
    abort(p, new Refused('discarded'));
  } catch {
    // abort always throws the caller's error; here there is none to report.
  }
}

/**
 * Checks, before long work, that a file could be written at path (its folder
 * made where missing): the same refusals as writeOutputFile, nothing created.
 */
export function checkOutputPath(path: string, fail: (why: string) => GlanceDbError): void {
  try {
    walkFolder(dirname(resolve(path)), 'check');
  } catch (err) {
    throw fail(err instanceof Refused ? err.message : reasonOf(err));
  }
}

/**
 * Makes sure a folder glance-db will write into is usable: a real folder
 * (links only as writeOutputFile follows them), not a kernel tree, created
 * one level at a time with `mode` when missing. Returns its real path.
 */
export function makeOutputFolder(dir: string, mode: number, fail: (why: string) => GlanceDbError): string {
  try {
    const folder = openFolder(dir, mode, true);
    closeSync(folder.fd);
    try {
      accessSync(folder.real, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new Refused(`${folder.real}: ${reasonOf(err)}`);
    }
    return folder.real;
  } catch (err) {
    if (err instanceof Refused) throw fail(err.message);
    throw fail(reasonOf(err));
  }
}

/**
 * Makes sure a backup folder is usable: a folder glance-db may write in, or
 * one it can create (private to its owner, 0700). Called before the database
 * is opened, so that a bad --backup-dir changes nothing.
 */
export function checkBackupDir(dir: string): void {
  makeOutputFolder(
    dir,
    0o700,
    (why) =>
      new OutputError(
        `The backup folder ${dir} cannot be used: ${why}. Nothing was changed.`,
        'Pass --backup-dir with a folder glance-db can create or write in.',
      ),
  );
}

/**
 * A reader that goes away (`glance-db history | head`, `grep -q`, a closed
 * terminal) ends nothing: what is still to be printed on that stream is
 * dropped, the command finishes its work (a sync is never cut off half-way
 * because nobody reads its progress) and exits with its own code. Set at run
 * time by each entry point (an event listener set while the single
 * executable's start-up snapshot is built does not survive into the run).
 */
export function outliveClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}
