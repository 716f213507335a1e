// Reads `[database] connection` from Glance's own config file
// (/etc/glance/glance-api.conf), so operators never retype credentials.
// oslo.config INI: `key = value` or `key: value`, `#` and `;` comments,
// indented lines continue the previous value.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

export function connectionFromGlanceConfig(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  let section = '';
  let found: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1].trim().toLowerCase();
      continue;
    }
    const kv = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (section === 'database' && kv && kv[1].toLowerCase() === 'connection') found = kv[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  if (!found) {
    throw new ConfigError(`${path} has no [database] connection setting.`, { hint: 'Pass the database URL with --url instead.' });
  }
  return found;
}

// ---------------------------------------------------------------------------
// Which files: several --glance-config files and directories, and the files
// glance-manage reads by default. Kept apart from the parsing above.

/**
 * The folders oslo.config's find_config_files() searches, in its order:
 * ~/.glance, ~, /etc/glance, /etc. GLANCE_DB_GLANCE_CONFIG_DIRS (a
 * colon-separated list) replaces them; it exists for tests, so that they never
 * depend on the machine's real /etc/glance.
 */
export function glanceConfigSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.GLANCE_DB_GLANCE_CONFIG_DIRS;
  if (override !== undefined) return override.split(':').filter(Boolean);
  const home = env.HOME || homedir();
  return [join(home, '.glance'), home, '/etc/glance', '/etc'];
}

const firstIn = (dirs: string[], name: string, wantDir: boolean): string | null => {
  for (const d of dirs) {
    const p = join(d, name);
    try {
      if (statSync(p).isDirectory() === wantDir) return p;
    } catch {
      // absent: try the next folder
    }
  }
  return null;
};

/**
 * What glance-manage reads when given no --config-file (glance/cmd/manage.py:
 * find_config_files(project='glance', prog='glance-api') then prog='glance-manage';
 * each finds glance.conf and PROG.conf in the first folder that has it), then
 * the --config-dir folders oslo.config adds by default (glance.conf.d,
 * glance-manage.conf.d). Later entries override earlier ones.
 */
export function defaultGlanceConfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = glanceConfigSearchDirs(env);
  const found = [
    firstIn(dirs, 'glance.conf', false),
    firstIn(dirs, 'glance-api.conf', false),
    firstIn(dirs, 'glance-manage.conf', false),
    firstIn(dirs, 'glance.conf.d', true),
    firstIn(dirs, 'glance-manage.conf.d', true),
  ].filter((p): p is string => p !== null);
  return [...new Set(found)];
}

/**
 * Files and folders in the order given become files in the order read, as
 * oslo.config's --config-file / --config-dir do: a folder contributes its
 * `*.conf` files in alphabetical order. A missing path is a config error.
 */
export function expandGlanceConfigPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new ConfigError(`Cannot read the Glance config ${p}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
    }
    if (!isDir) files.push(p);
    else {
      let names: string[];
      try {
        names = readdirSync(p);
      } catch (err) {
        throw new ConfigError(`Cannot read the Glance config folder ${p}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
      }
      files.push(...names.filter((n) => n.endsWith('.conf')).sort().map((n) => join(p, n)).filter((f) => !statSync(f).isDirectory()));
    }
  }
  return files;
}

/** One `section.key` setting as each file gives it (the last assignment in a file wins), or undefined. */
function settingIn(path: string, section: string, key: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  let current = '';
  let found: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1].trim();
      // oslo.config: DEFAULT is case-sensitive, other group names are not.
      if (current !== 'DEFAULT') current = current.toLowerCase();
      continue;
    }
    const kv = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (current === section && kv && kv[1].toLowerCase() === key) found = kv[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return found;
}

/**
 * oslo.db's `[database] connection` across several files, later files
 * winning; only where no file sets it, its deprecated names
 * `[DEFAULT] sql_connection` and `[sql] connection` (oslo.config looks up the
 * current name first, then each deprecated one). Null when none is set.
 */
export function connectionFromGlanceConfigFiles(files: string[]): { url: string; file: string; name: string } | null {
  const names: Array<[string, string, string]> = [
    ['database', 'connection', '[database] connection'],
    ['DEFAULT', 'sql_connection', '[DEFAULT] sql_connection (deprecated)'],
    ['sql', 'connection', '[sql] connection (deprecated)'],
  ];
  for (const [section, key, name] of names) {
    for (const file of [...files].reverse()) {
      if (section === 'database') {
        // The current name goes through the main parser (and whatever it resolves).
        try {
          return { url: connectionFromGlanceConfig(file), file, name };
        } catch (err) {
          if (!(err instanceof ConfigError) || !/has no \[database\] connection/.test(err.message)) throw err;
          continue;
        }
      }
      const url = settingIn(file, section, key);
      if (url) return { url, file, name };
    }
  }
  return null;
}
