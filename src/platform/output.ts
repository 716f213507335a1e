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
  existsSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { OutputError, type GlanceDbError } from './errors.js';
import { PACKAGE_ROOT } from './paths.js';

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

/** Why a place was refused, in words; turned into the caller's error. */
class Refused extends Error {
  /** What to do instead, when it is not the caller's general hint. */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Where glance-db never writes: the kernel's own trees. */
const SYSTEM_TREES = ['/proc', '/sys', '/dev'];

/** statfs magic numbers of kernel file systems, wherever they are mounted. */
const KERNEL_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x62656570: 'configfs',
  0xcafe4a11: 'bpf',
  0xde5e81e0: 'efivarfs',
  0x6165676c: 'pstore',
};

const uid = () => process.geteuid?.() ?? -1;

function kindOf(st: Stats): string {
  return st.isDirectory()
    ? 'a folder'
    : st.isSymbolicLink()
      ? 'a symbolic link'
      : st.isFIFO()
        ? 'a named pipe'
        : st.isSocket()
          ? 'a socket'
          : st.isCharacterDevice()
            ? 'a character device'
            : st.isBlockDevice()
              ? 'a block device'
              : 'a regular file';
}

const within = (path: string, tree: string) => path === tree || path.startsWith(tree.endsWith(sep) ? tree : tree + sep);

let packageRoot: string | null | undefined;

/** glance-db's installed package folder, or null when it is a development checkout (a git working tree). */
function installedPackage(): string | null {
  if (packageRoot === undefined) {
    try {
      packageRoot = existsSync(join(PACKAGE_ROOT, '.git')) ? null : realpathSync(PACKAGE_ROOT);
    } catch {
      packageRoot = null;
    }
  }
  return packageRoot;
}

/** Refuses a real (link-free) folder where files have no place. */
function checkPlace(real: string): void {
  const tree = SYSTEM_TREES.find((t) => within(real, t));
  if (tree)
    throw new Refused(
      `${real} belongs to the kernel (${tree}), no place for glance-db's files`,
      'Write to a file in an ordinary folder (to print a plan, leave --output out).',
    );
  const pkg = installedPackage();
  if (pkg && within(real, pkg))
    throw new Refused(
      `${real} is inside glance-db's installed package (${pkg}), which glance-db never writes into`,
      'Write outside the installed package: a manifest of your own (--config) keeps its files beside it.',
    );
  let type: number;
  try {
    type = statfsSync(real).type;
  } catch {
    return;
  }
  if (KERNEL_FS[type]) throw new Refused(`${real} is on a ${KERNEL_FS[type]} file system, not a place for files`);
}

/**
 * Walks dir one component at a time (see the top of this file) and returns
 * its real path and what lstat said of it. createMode: make missing folders
 * with that mode (less the umask); null: a missing folder is refused;
 * 'check': stop at the first missing one (the place is checked up to there).
 * named: dir is the folder the user named (not the folder of a file), for the messages.
 */
function walkFolder(dir: string, createMode: number | null | 'check', named = false): { real: string; st: Stats } {
  const pending = resolve(dir).split(sep).filter(Boolean);
  let cur: string = sep;
  let st = lstatSync(sep);
  let links = 0;
  while (pending.length) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      cur = dirname(cur);
      st = lstatSync(cur);
      continue;
    }
    const p = join(cur, name);
    try {
      st = lstatSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new Refused(`${p}: ${reasonOf(err)}`);
      if (createMode === 'check') break;
      if (createMode === null) throw new Refused(`its folder does not exist (${p} is missing)`);
      // Nothing is created where files have no place (mkdir under /proc fails, or worse, succeeds on a cgroup file system).
      checkPlace(cur);
      try {
        mkdirSync(p, { mode: createMode });
      } catch (e) {
        const c = (e as NodeJS.ErrnoException).code;
        if (c !== 'EEXIST')
          throw new Refused(`${p} cannot be created: ${c === 'ENOENT' ? 'the file system refuses it' : reasonOf(e)}`);
      }
      st = lstatSync(p);
    }
    if (st.isSymbolicLink()) {
      if (st.uid !== uid() && st.uid !== 0) {
        throw new Refused(
          `${p} is a symbolic link owned by user ${st.uid}; glance-db follows a link among the folders of a path it writes only when the link belongs to the user running it (${uid()}) or to root`,
          `Give the real path of the folder, after checking who made the link ${p} and why.`,
        );
      }
      if (++links > 40) throw new Refused(`${p}: ${REASONS.ELOOP}`);
      const target = readlinkSync(p);
      pending.unshift(...target.split(sep).filter(Boolean));
      if (target.startsWith(sep)) cur = sep;
      continue;
    }
    if (!st.isDirectory())
      throw new Refused(
        pending.length || !named
          ? `a part of the path is not a folder (${p} is ${kindOf(st)})`
          : `${p} is ${kindOf(st)}, not a folder`,
      );
    cur = p;
  }
  checkPlace(cur);
  return { real: cur, st };
}

/** An open folder, and the prefix that reaches its entries through the descriptor. */
interface Folder {
  real: string;
  fd: number;
  via: string;
  open: boolean;
}

function openFolder(dir: string, createMode: number | null, named = false): Folder {
  const { real, st } = walkFolder(dir, createMode, named);
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new Refused(`${real}: ${reasonOf(err)}`);
  }
  const now = fstatSync(fd);
  if (now.dev !== st.dev || now.ino !== st.ino) {
    closeSync(fd);
    throw new Refused(`${real} was replaced while glance-db was checking it`);
  }
  // Linux: entries reached through the open folder, as openat(2) would (not found elsewhere: by path, checked just above).
  const proc = `/proc/self/fd/${fd}`;
  let via = real;
  try {
    const s = statSync(proc);
    if (s.dev === st.dev && s.ino === st.ino) via = proc;
  } catch {
    // No /proc here.
  }
  return { real, fd, via, open: true };
}

/** The name inside the folder: nothing there, or a regular file to replace (refused when replace is false). */
function checkName(folder: Folder, name: string, replace: boolean): void {
  let st: Stats;
  try {
    st = lstatSync(join(folder.via, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Refused(reasonOf(err));
  }
  if (st.isSymbolicLink())
    throw new Refused(
      'it is a symbolic link, and glance-db neither writes through a link nor replaces one',
      'Give the path of the file the link points to (readlink -f), or remove the link.',
    );
  if (!st.isFile())
    throw new Refused(
      `it is ${kindOf(st)}, not a regular file`,
      'Give the path of a regular file (or of one to be created).',
    );
  if (!replace) throw new Refused('a file of that name exists already, and glance-db never replaces one here');
}

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
