// Reads `[database] connection` from Glance's own config file
// (/etc/glance/glance-api.conf), so operators never retype credentials. The
// file is read as oslo.config reads it (./oslo-ini.ts), so that glance-db
// opens the database glance-api would. Nothing from the file is quoted in a
// message except option names, and not even those when they may be part of a
// password.
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readBounded, TooLargeError } from '../platform/read-bounded.js';
import { ConfigError } from '../platform/errors.js';
import { registerSecretsOf } from '../platform/url.js';
import { releaseLabel } from './releases.js';
import { parseOsloIni, substitute } from './oslo-ini.js';
import { installedGlance } from './installed.js';

/** Glance's sample glance-api.conf, every option commented, is about 250 KB. */
const MAX_GLANCE_CONFIG_BYTES = 16 * 1024 * 1024;

export function connectionFromGlanceConfig(path: string): string {
  let text: string;
  try {
    text = readBounded(path, MAX_GLANCE_CONFIG_BYTES).toString('utf8');
  } catch (err) {
    if (err instanceof TooLargeError)
      throw new ConfigError(
        `The Glance config ${path} is larger than ${MAX_GLANCE_CONFIG_BYTES} bytes (16 MiB); it cannot be a glance-api.conf.`,
      );
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  const sections = parseOsloIni(text, path);
  const found = sections.get('database')?.get('connection');
  if (!found || !found.value) {
    throw new ConfigError(`${path} has no [database] connection setting.`, {
      hint: 'Pass the database URL with --url instead.',
    });
  }
  registerSecretsOf(found.value);
  if (found.lines > 1) {
    throw new ConfigError(
      `[database] connection in ${path} (line ${found.line}) continues on ${found.lines - 1} indented line(s): oslo.config joins them with a line break, which no database URL may contain, so Glance cannot use it either.`,
      { hint: 'Put the whole URL on one line.' },
    );
  }
  const url = substitute(sections, 'database', found.value, path, '[database] connection');
  registerSecretsOf(url);
  return url;
}

// ---------------------------------------------------------------------------
// Which files: several --glance-config files and directories, and the files
// glance-manage reads by default. Kept apart from the parsing above.

/**
 * The folders oslo.config's find_config_files() and find_config_dirs()
 * search, in its order (_get_config_dirs): ~/.glance, ~, /etc/glance, /etc,
 * then $SNAP_COMMON/etc/glance and $SNAP/etc/glance when Glance runs from a
 * snap. GLANCE_DB_GLANCE_CONFIG_DIRS (a colon-separated list) replaces them;
 * it exists for tests, so that they never depend on the machine's real
 * /etc/glance.
 */
export function glanceConfigSearchDirs(env: NodeJS.ProcessEnv): string[] {
  const override = env.GLANCE_DB_GLANCE_CONFIG_DIRS;
  if (override !== undefined) return override.split(':').filter(Boolean);
  const home = env.HOME || homedir();
  return [
    join(home, '.glance'),
    home,
    '/etc/glance',
    '/etc',
    ...(env.SNAP_COMMON ? [join(env.SNAP_COMMON, 'etc', 'glance')] : []),
    ...(env.SNAP ? [join(env.SNAP, 'etc', 'glance')] : []),
  ];
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

/** A list read in order where later entries win, each path kept at its last place (reading a file again moves it there). */
const keepLast = (paths: string[]) => paths.filter((p, i) => paths.lastIndexOf(p) === i);

/**
 * The files glance-manage reads when given no --config-file
 * (glance/cmd/manage.py main(): find_config_files(project='glance',
 * prog='glance-api') + find_config_files(project='glance',
 * prog='glance-manage'), each giving glance.conf and PROG.conf from the first
 * folder that has it): glance.conf, glance-api.conf, glance.conf again,
 * glance-manage.conf. Read in that order, later ones winning, glance.conf
 * wins over glance-api.conf and glance-manage.conf over both.
 */
export function defaultGlanceConfigFiles(env: NodeJS.ProcessEnv): string[] {
  const dirs = glanceConfigSearchDirs(env);
  const glance = firstIn(dirs, 'glance.conf', false);
  return keepLast(
    [glance, firstIn(dirs, 'glance-api.conf', false), glance, firstIn(dirs, 'glance-manage.conf', false)].filter(
      (p): p is string => p !== null,
    ),
  );
}

/**
 * The folders glance-manage reads when given no --config-dir, read after the
 * default files: find_config_dirs() for glance-api and for glance-manage
 * (glance.conf.d, glance-api.conf.d, glance.conf.d, glance-manage.conf.d; the
 * first folder of the search that has each). Releases before 2026.2 left
 * default_config_dirs to oslo.config, which looked for glance.conf.d and
 * glance-manage.conf.d only: a glance-api.conf.d is read by their glance-api,
 * not by their glance-manage. glance-db reads it, as glance-api does.
 */
export function defaultGlanceConfigDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs = glanceConfigSearchDirs(env);
  const glance = firstIn(dirs, 'glance.conf.d', true);
  return keepLast(
    [glance, firstIn(dirs, 'glance-api.conf.d', true), glance, firstIn(dirs, 'glance-manage.conf.d', true)].filter(
      (p): p is string => p !== null,
    ),
  );
}

/** Everything glance-manage reads by default, in its order: the default files, then the default folders. */
export function defaultGlanceConfigPaths(env: NodeJS.ProcessEnv): string[] {
  return [...defaultGlanceConfigFiles(env), ...defaultGlanceConfigDirs(env)];
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
        throw new ConfigError(
          `Cannot read the Glance config folder ${p}: ${(err as NodeJS.ErrnoException).code ?? err}.`,
        );
      }
      files.push(
        ...names
          .filter((n) => n.endsWith('.conf') && !n.startsWith('.'))
          .sort()
          .map((n) => join(p, n))
          .filter((f) => !statSync(f).isDirectory()),
      );
    }
  }
  return files;
}

/** One `section.key` setting of a file, read and substituted as oslo.config does, or undefined. */
function settingIn(path: string, section: string, key: string): string | undefined {
  let text: string;
  try {
    text = readBounded(path, MAX_GLANCE_CONFIG_BYTES).toString('utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  const sections = parseOsloIni(text, path);
  const found = sections.get(section)?.get(key);
  if (!found || !found.value) return undefined;
  registerSecretsOf(found.value);
  const url = substitute(sections, section, found.value, path, `[${section}] ${key}`);
  registerSecretsOf(url);
  return url;
}

/** oslo.db's connection option and, before oslo.db 15, its deprecated names, in the order oslo.config looks them up within a file. */
const CONNECTION_NAMES: Array<[section: string, key: string, name: string]> = [
  ['database', 'connection', '[database] connection'],
  ['DEFAULT', 'sql_connection', '[DEFAULT] sql_connection (deprecated)'],
  ['database', 'sql_connection', '[database] sql_connection (deprecated)'],
  ['sql', 'connection', '[sql] connection (deprecated)'],
];

type Found = { url: string; file: string; name: string };

function lookUp(file: string, section: string, key: string, name: string): Found | null {
  if (section === 'database' && key === 'connection') {
    // The current name goes through the main parser (and whatever it resolves).
    try {
      return { url: connectionFromGlanceConfig(file), file, name };
    } catch (err) {
      if (!(err instanceof ConfigError) || !/has no \[database\] connection/.test(err.message)) throw err;
      return null;
    }
  }
  const url = settingIn(file, section, key);
  return url ? { url, file, name } : null;
}

/** oslo.db 15 (Glance 2024.1, caracal) removed the deprecated names; Glance 2023.1 and 2023.2 still read them. */
const FIRST_MAJOR_WITHOUT_DEPRECATED_NAMES = 28;

/**
 * oslo.db's `[database] connection` across several files, later files
 * winning, as the Glance in use reads it:
 * - oslo.db 15 and later (Glance 2024.1 on) know the current name only;
 * - before (Glance 2023.1, 2023.2), oslo.config looks at the files newest
 *   first and, in each, at the current name and then the deprecated ones
 *   (`[DEFAULT] sql_connection`, `[DATABASE] sql_connection`, `[sql]
 *   connection`): a later file's deprecated name beats an earlier file's
 *   current one (cfg.py _Namespace._get_file_value; checked with Debian's zed
 *   glance-manage).
 * Where the two readings name different databases, the Glance installed on this
 * host decides, with a notice; with none installed, glance-db refuses rather
 * than guess. Where no file sets the current name, the deprecated one is used
 * (a newer Glance would have no database at all). Null when none is set.
 */
export function connectionFromGlanceConfigFiles(
  files: string[],
  env: NodeJS.ProcessEnv,
): (Found & { notice?: string }) | null {
  const newestFirst = [...files].reverse();
  let current: Found | null = null;
  let older: Found | null = null;
  for (const file of newestFirst) {
    for (const [section, key, name] of CONNECTION_NAMES) {
      const found = lookUp(file, section, key, name);
      if (!found) continue;
      older ??= found;
      if (name === '[database] connection') current ??= found;
      if (current) break;
    }
    if (current) break;
  }
  if (!current || !older || (older.file === current.file && older.name === current.name) || older.url === current.url)
    return current ?? older;
  const where = (f: Found) => `${f.name.replace(/ \(deprecated\)$/, '')} in ${f.file}`;
  const installed = installedGlance(env);
  if (installed?.release) {
    const newer = installed.release.glanceMajor >= FIRST_MAJOR_WITHOUT_DEPRECATED_NAMES;
    const chosen = newer ? current : older;
    return {
      ...chosen,
      notice:
        `${where(current)} and the deprecated ${where(older)} (a later file) name different databases; using ${where(chosen)}, as the installed Glance ${installed.version} (${releaseLabel(installed.release)}) does: ` +
        (newer
          ? 'its oslo.db no longer reads the deprecated name.'
          : 'its oslo.config takes the later file, whichever name it uses.'),
    };
  }
  throw new ConfigError(
    `${where(current)} and the deprecated ${where(older)} name different databases, and Glance releases disagree on which is used: 2023.1 and 2023.2 take the later file's (oslo.config reads the deprecated name there), 2024.1 and later only know [database] connection. glance-db does not guess.`,
    {
      hint: 'Remove the deprecated setting (or make both name the same database), or pass the database URL with --url.',
    },
  );
}

/**
 * glance-manage's default metadefs folder, where db_load_metadefs (and
 * db_export_metadefs) look when given no PATH: CONF.metadata_source_path
 * (glance/db/sqlalchemy/metadata.py), a [DEFAULT] option, so oslo.config's
 * environment source (OS_DEFAULT__METADATA_SOURCE_PATH) first, then the last
 * of Glance's config files that sets it: those named with --glance-config
 * (--config-file, --config-dir), or else Glance's default files. Null when
 * nothing sets it (Glance's default, /etc/glance/metadefs/, applies). A
 * default file that cannot be read is passed over here: it is read, and its
 * error reported, where it names the database.
 */
export function metadataSourcePath(
  glanceConfig: string[] | undefined,
  env: NodeJS.ProcessEnv,
): { path: string; from: string } | null {
  const fromEnv = env.OS_DEFAULT__METADATA_SOURCE_PATH;
  if (fromEnv !== undefined && fromEnv.trim()) return { path: fromEnv, from: 'OS_DEFAULT__METADATA_SOURCE_PATH' };
  const named = (glanceConfig?.length ?? 0) > 0;
  let files: string[];
  try {
    files = expandGlanceConfigPaths(named ? glanceConfig! : defaultGlanceConfigPaths(env));
  } catch (err) {
    if (named) throw err;
    return null;
  }
  for (const file of [...files].reverse()) {
    let value: string | undefined;
    try {
      value = settingIn(file, 'DEFAULT', 'metadata_source_path');
    } catch (err) {
      if (named) throw err;
      continue;
    }
    if (value?.trim()) return { path: value.trim(), from: `[DEFAULT] metadata_source_path in ${file}` };
  }
  return null;
}
