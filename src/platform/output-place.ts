// Where a file glance-db writes on request may go (src/platform/output.ts
// writes it): the folder walked one component at a time, its place (no
// kernel tree, no kernel file system, not glance-db's installed package), the
// folder opened once and checked to be the one walked, and the name in it.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  statfsSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
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
export class Refused extends Error {
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
export function walkFolder(
  dir: string,
  createMode: number | null | 'check',
  named = false,
): { real: string; st: Stats } {
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
export interface Folder {
  real: string;
  fd: number;
  via: string;
  open: boolean;
}

export function openFolder(dir: string, createMode: number | null, named = false): Folder {
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
export function checkName(folder: Folder, name: string, replace: boolean): void {
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
