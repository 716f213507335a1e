// --backup: a copy of the database before glance-db changes anything.
// A file (SQLite): copied under the migration lock. A server: its dialect's
// dump tool (src/dialects/<name>/description.ts backup.dump: pg_dump in custom format,
// mariadb-dump or mysqldump). The tools run from an argument array (no
// shell) and get the password from the environment (PGPASSWORD, MYSQL_PWD),
// never on the command line.
// The backup file is written like every file glance-db writes
// (src/platform/output.ts): a new file under a random name, created without
// following anything planted, 0600 (it holds every image's metadata), renamed
// into place only when whole; a missing folder is made 0700. The dump tools
// write to their standard output, which is that new file's descriptor: they
// never open a path, so nothing can be swapped under them.
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { DIALECTS } from '../dialects/index.js';
import { ConfigError } from '../platform/errors.js';
import { dumpRefusal } from '../platform/tls.js';
import {
  BackupToolFailedError,
  BackupToolMissingError,
  BackupToolStartError,
  BackupWriteError,
} from '../platform/errors-backup.js';
import { isFileTarget, type DatabaseTarget } from '../platform/url.js';
import { redactSecret } from '../platform/secret.js';
import { makeOutputFolder, writeOutputFileWith } from '../platform/output.js';
import { heldDescriptor } from '../platform/sqlite-holds.js';

/** Next to a database file; for a server, in the working directory `cwd`. */
export function defaultBackupDir(target: DatabaseTarget, cwd: string): string {
  return isFileTarget(target) ? join(dirname(target.path), 'glance-db-backups') : join(cwd, 'glance-db-backups');
}

function which(tool: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return join(dir, tool);
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

/** The dump tool for a server, found on env's PATH, checked before anything is changed. Null for a file (SQLite). */
export function backupTool(target: DatabaseTarget, env: NodeJS.ProcessEnv): string | null {
  const { dump } = DIALECTS[target.dialect].backup;
  if (!dump) return null;
  // TLS settings the tool cannot be given: refused now, before anything changed.
  const refusal = isFileTarget(target) ? null : dumpRefusal(target.tls, target.dialect);
  if (refusal)
    throw new ConfigError(`${refusal}.`, {
      hint: 'Take the backup yourself before the run (and leave --backup out), or use a client key without a password.',
    });
  const candidates = dump.tools;
  const found = candidates.map((c) => which(c, env)).find((p) => p !== null);
  if (!found) {
    throw new BackupToolMissingError(candidates, dump.clientPackage);
  }
  return found;
}

function dbName(target: DatabaseTarget): string {
  return isFileTarget(target) ? basename(target.path).replace(/\.[^.]*$/, '') : target.database;
}

function run(
  tool: string,
  args: string[],
  base: NodeJS.ProcessEnv,
  env: Record<string, string | undefined>,
  password: string,
  out: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: { ...base, ...env }, stdio: ['ignore', out, 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new BackupToolStartError(basename(tool), e.message)));
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new BackupToolFailedError(
              basename(tool),
              code,
              redactSecret(err.trim().split('\n').slice(-3).join(' '), password),
            ),
          ),
    );
  });
}

/** Takes the backup and returns its path. Call under the migration lock. */
export async function takeBackup(
  target: DatabaseTarget,
  dir: string,
  level: number | null,
  tool: string | null,
  /** The environment the dump tool starts with (cli's), under the password and TLS variables. */
  base: NodeJS.ProcessEnv,
): Promise<string> {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `${dbName(target)}-v${level ?? 'none'}-${stamp}.${DIALECTS[target.dialect].backup.extension}`);
  // A folder glance-db creates for backups is the owner's alone, and a backup never replaces a file.
  makeOutputFolder(dir, 0o700, (why) => new BackupWriteError(dir, why));
  const opts = { mode: 0o600, replace: false, fail: (why: string) => new BackupWriteError(file, why) };
  if (isFileTarget(target)) {
    await writeOutputFileWith(file, async (out) => copyInto(target.path, out), 'the backup', undefined, opts);
    return file;
  }
  const { dump } = DIALECTS[target.dialect].backup;
  // The password and the TLS settings in the environment, never on the command line.
  const env: Record<string, string | undefined> = {
    ...(dump.env?.(target) ?? {}),
    [dump.passwordVariable]: target.password,
  };
  await writeOutputFileWith(
    file,
    (out) => run(tool!, dump.args(target, tool!), base, env, target.password, out),
    'the backup',
    undefined,
    opts,
  );
  return file;
}

/** Copies the SQLite file into the open backup file (taken under the migration lock, so nothing writes it meanwhile). */
function copyInto(from: string, out: number): void {
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
  } finally {
    if (held === null) closeSync(inp);
  }
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
  const files = names
    .filter((f) => f.startsWith(prefix))
    .map((f) => join(dir, f))
    .filter((f) => mtime(f) >= 0);
  return files.sort((a, b) => mtime(b) - mtime(a))[0] ?? null;
}
