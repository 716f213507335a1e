// --backup: a copy of the database before glance-db changes anything.
// A file (SQLite): copied under the migration lock. A server: its dialect's
// dump tool (src/dialects/<name>.ts backup.dump: pg_dump in custom format,
// mariadb-dump or mysqldump). The tools run from an argument array (no
// shell) and get the password from the environment (PGPASSWORD, MYSQL_PWD),
// never on the command line.
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { DIALECTS } from '../dialects/index.js';
import { BackupToolFailedError, BackupToolMissingError, BackupToolStartError, BackupWriteError } from '../errors.js';
import { isFileTarget, type DatabaseTarget } from '../url.js';
import { redactSecret } from '../drivers/secret.js';
import { heldDescriptor } from '../util/sqlite-lock.js';

export function defaultBackupDir(target: DatabaseTarget): string {
  return isFileTarget(target) ? join(dirname(target.path), 'glance-db-backups') : join(process.cwd(), 'glance-db-backups');
}

function which(tool: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

/** The dump tool for a server, checked before anything is changed. Null for a file (SQLite). */
export function backupTool(target: DatabaseTarget): string | null {
  const { dump } = DIALECTS[target.dialect].backup;
  if (!dump) return null;
  const candidates = dump.tools;
  const found = candidates.map(which).find((p) => p !== null);
  if (!found) {
    throw new BackupToolMissingError(candidates, dump.clientPackage);
  }
  return found;
}

function dbName(target: DatabaseTarget): string {
  return isFileTarget(target) ? basename(target.path).replace(/\.[^.]*$/, '') : target.database;
}

function run(tool: string, args: string[], env: Record<string, string>, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new BackupToolStartError(basename(tool), e.message)));
    child.on('close', (code) => (code === 0 ? resolve()
      : reject(new BackupToolFailedError(basename(tool), code, redactSecret(err.trim().split('\n').slice(-3).join(' '), password)))));
  });
}

/** Takes the backup and returns its path. Call under the migration lock. */
export async function takeBackup(target: DatabaseTarget, dir: string, level: number | null, tool: string | null): Promise<string> {
  // A file: the folder made private (0700) when glance-db creates it; servers: see below.
  if (isFileTarget(target)) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw sqliteBackupFailed(dir, err);
    }
  }
  // A backup holds every image's metadata: a folder glance-db creates is the owner's alone.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `${dbName(target)}-v${level ?? 'none'}-${stamp}.${DIALECTS[target.dialect].backup.extension}`);
  if (isFileTarget(target)) {
    try {
      copyPrivate(target.path, file);
    } catch (err) {
      throw sqliteBackupFailed(file, err);
    }
    return file;
  }
  const { dump } = DIALECTS[target.dialect].backup;
  const env: Record<string, string> = { [dump.passwordVariable]: target.password };
  // Created here, new (never through an existing name or link) and 0600, before the tool writes into it;
  // pg_dump and mariadb-dump truncate an existing file and keep its mode.
  closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  try {
    await run(tool!, dump.args(target, file), env, target.password);
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  }
  chmodSync(file, 0o600);
  return file;
}

function sqliteBackupFailed(where: string, err: unknown): BackupWriteError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  const why = code === 'ENOSPC' || code === 'EDQUOT' ? 'the disk is full' : code === 'EEXIST' || code === 'ENOTDIR' ? 'something that is not a folder is in the way'
    : code === 'ELOOP' ? 'a symbolic link is in the way (glance-db never follows one for a file it creates)' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'permission denied or read-only' : code;
  return new BackupWriteError(where, why);
}

/**
 * Copies the SQLite file into a new file readable by its owner only (0600: it
 * holds every image's metadata), created with O_EXCL|O_NOFOLLOW so that
 * nothing planted under that name (a symbolic link above all) is followed.
 */
function copyPrivate(from: string, to: string): void {
  const out = openSync(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    // Under SQLite's lock, through the lock's own descriptor: closing another one would drop the lock.
    const held = heldDescriptor(from);
    const inp = held ?? openSync(from, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
      for (let pos = 0; ;) {
        const n = readSync(inp, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
        for (let off = 0; off < n;) off += writeSync(out, buf, off, n - off);
      }
      fsyncSync(out);
    } finally {
      if (held === null) closeSync(inp);
    }
  } catch (err) {
    closeSync(out);
    try {
      unlinkSync(to);
    } catch {
      // Nothing to clean.
    }
    throw err;
  }
  closeSync(out);
}

/** The newest backup of this database in dir, for the restore steps. */
export function latestBackup(target: DatabaseTarget, dir: string): string | null {
  if (!existsSync(dir)) return null;
  const prefix = `${dbName(target)}-v`;
  // Only a hint in the restore steps: a --backup-dir that is a file or cannot be read names no backup.
  const mtime = (f: string) => {
    try {
      return statSync(f).mtimeMs;
    } catch {
      return -1;
    }
  };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const files = names.filter((f) => f.startsWith(prefix)).map((f) => join(dir, f)).filter((f) => mtime(f) >= 0);
  return files.sort((a, b) => mtime(b) - mtime(a))[0] ?? null;
}
