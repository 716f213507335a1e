// Which database a run uses (docs/guide/database.md#which-database): --url;
// Glance's config named with --glance-config (--config-file/--config-dir),
// where oslo.config's environment source overrides the files; GLANCE_DB_URL;
// OS_DATABASE__CONNECTION; the manifest's database.url; Glance's default
// config files. Never the wrong database silently: every other source set
// that names a different database gets a notice saying which won and why.
import { basename, join } from 'node:path';
import { ConfigError } from '../platform/errors.js';
import {
  connectionFromGlanceConfigFiles,
  defaultGlanceConfigPaths,
  expandGlanceConfigPaths,
  glanceConfigSearchDirs,
} from '../glance/config.js';
import type { Manifest } from '../core/manifest/types.js';
import { parseDatabaseUrl } from '../dialects/index.js';

/** What names the database: the flags and the environment a command passes in. */
export interface DatabaseOptions {
  /** --url. */
  url?: string;
  /** GLANCE_DB_URL, passed in by the command layer (unset and empty are both undefined). */
  envUrl?: string;
  /** --glance-config: Glance's own config files and folders (oslo.config order), whose [database] connection is the URL. */
  glanceConfig?: string[];
  /**
   * oslo.config's environment source: OS_DATABASE__CONNECTION (undefined when
   * unset; set but empty is kept, to be refused), and the environment as a
   * whole for the names oslo.config does not read (OS_DEFAULT__SQL_CONNECTION...).
   */
  osloEnv?: NodeJS.ProcessEnv;
  /** The command does not open the database (plan --dialect): no database needs naming. */
  offline?: boolean;
}

/** oslo.config's environment source for oslo.db's [database] connection (oslo_config/sources/_environment.py: OS_<GROUP>__<OPTION>). */
export const OSLO_ENV_CONNECTION = 'OS_DATABASE__CONNECTION';

/**
 * Environment names that look like the connection but that oslo.config never
 * reads: its environment source asks for an option's current group and name
 * only (cfg.py _do_get), never a deprecated one, and oslo.db 15 (2024.1)
 * dropped the deprecated names altogether.
 */
export const OSLO_ENV_UNREAD = ['OS_DEFAULT__SQL_CONNECTION', 'OS_DATABASE__SQL_CONNECTION', 'OS_SQL__CONNECTION'];

/** The database a run uses, where it came from (its source and the folder a relative SQLite path is read from), and the notices about the sources it did not use. */
export interface ChosenDatabase {
  url: string;
  urlSource: string;
  baseDir: string;
  /** How a message names the URL's source: "the URL given with --url", ... */
  described: string;
  notices: string[];
}

/**
 * Picks the database URL from the first source that names one (the order:
 * docs/guide/database.md#which-database), and a notice for every other
 * source that names a different database.
 */
export function chooseDatabase(raw: DatabaseOptions, manifest: Manifest, bundled: boolean): ChosenDatabase {
  // The bundled manifest's relative SQLite path means "here", not "inside the installed package".
  const fromManifest = bundled ? 'the manifest shipped with glance-db' : manifest.path;
  const fromConfig = ([u, source, dir]: [string, string, string]): [string, string, string, string] => [
    u,
    source,
    dir,
    `the database URL in ${source}`,
  ];
  const osloEnv = raw.osloEnv ?? {};
  const osUrl = osloEnv[OSLO_ENV_CONNECTION];
  const fromOsloEnv = (): [string, string, string, string] => {
    if (!osUrl!.trim()) {
      throw new ConfigError(
        `${OSLO_ENV_CONNECTION} is set but empty: oslo.config would give Glance the empty value, which names no database.`,
        {
          hint: `Unset it (unset ${OSLO_ENV_CONNECTION}) to use the config files, or set it to the database URL.`,
        },
      );
    }
    return [osUrl!, OSLO_ENV_CONNECTION, process.cwd(), `the URL in ${OSLO_ENV_CONNECTION}`];
  };
  // The order (docs/guide/database.md#which-database): --url; Glance's config named with --glance-config
  // (--config-file/--config-dir), where oslo.config's environment source overrides the files; GLANCE_DB_URL;
  // OS_DATABASE__CONNECTION; the manifest's database.url; Glance's default config files.
  const configNotices: string[] = [];
  const [url, urlSource, baseDir, described] =
    raw.url !== undefined
      ? [raw.url, '--url', process.cwd(), 'the URL given with --url']
      : raw.glanceConfig?.length
        ? osUrl !== undefined
          ? fromOsloEnv()
          : fromConfig(fromGlanceConfig(raw.glanceConfig, configNotices))
        : raw.envUrl !== undefined
          ? [raw.envUrl, 'GLANCE_DB_URL', process.cwd(), 'the URL in GLANCE_DB_URL']
          : osUrl !== undefined
            ? fromOsloEnv()
            : !bundled || raw.offline
              ? [
                  manifest.databaseUrl,
                  fromManifest,
                  bundled ? process.cwd() : manifest.dir,
                  `database.url in ${fromManifest}`,
                ]
              : fromConfig(fromDefaultGlanceConfig(configNotices));
  const notices = [
    ...configNotices,
    ...sourceNotices(raw, { url, urlSource, baseDir }, osUrl, () =>
      !bundled ? { url: manifest.databaseUrl, baseDir: manifest.dir, name: `database.url in ${fromManifest}` } : null,
    ),
  ];
  return { url, urlSource, baseDir, described, notices };
}

/** The database a URL names, as messages show it (no password); the URL's own text (unshown) when glance-db cannot parse it. */
function databaseOf(url: string, baseDir: string): { display: string | null; key: string } {
  try {
    const t = parseDatabaseUrl(url, baseDir);
    return { display: t.display, key: t.display };
  } catch {
    return { display: null, key: url.trim() };
  }
}

/**
 * Never the wrong database silently: every other source that is set and names
 * a different database than the one chosen gets a line saying which won and why.
 * Sources are only read for this when that is cheap and cannot fail the run:
 * the values given, Glance's config files only when oslo.config's environment
 * source overrode them.
 */
function sourceNotices(
  raw: DatabaseOptions,
  chosen: { url: string; urlSource: string; baseDir: string },
  osUrl: string | undefined,
  manifestUrl: () => { url: string; baseDir: string; name: string } | null,
): string[] {
  const winner = chosen.urlSource;
  const cwd = process.cwd();
  const others = otherSources(raw, winner, osUrl, manifestUrl);
  const chosenDb = databaseOf(chosen.url, chosen.baseDir);
  const lines: string[] = [];
  for (const o of others) {
    const db = databaseOf(o.url, o.baseDir);
    if (db.key === chosenDb.key) continue;
    lines.push(
      `using ${chosenDb.display ?? 'the database'} from ${winner}, not ${db.display ?? 'the database'} from ${o.name}: ${o.why}.`,
    );
  }
  const env = raw.osloEnv ?? {};
  for (const name of OSLO_ENV_UNREAD) {
    if (env[name] === undefined) continue;
    const db = databaseOf(env[name]!, cwd);
    if (db.key === chosenDb.key) continue;
    lines.push(
      `${name} is set and not read: oslo.config reads the environment under an option's current name only (${OSLO_ENV_CONNECTION}), so Glance does not read it either; using ${chosenDb.display ?? 'the database'} from ${winner}.`,
    );
  }
  return lines;
}

/** The sources set besides the chosen one, each with why it lost (read only when that is cheap and cannot fail the run). */
function otherSources(
  raw: DatabaseOptions,
  winner: string,
  osUrl: string | undefined,
  manifestUrl: () => { url: string; baseDir: string; name: string } | null,
): { name: string; url: string; baseDir: string; why: string }[] {
  const others: { name: string; url: string; baseDir: string; why: string }[] = [];
  const cwd = process.cwd();
  if (raw.url !== undefined) {
    if (raw.envUrl !== undefined)
      others.push({ name: 'GLANCE_DB_URL', url: raw.envUrl, baseDir: cwd, why: '--url wins over every other source' });
    if (osUrl)
      others.push({ name: OSLO_ENV_CONNECTION, url: osUrl, baseDir: cwd, why: '--url wins over every other source' });
  } else if (raw.glanceConfig?.length) {
    if (raw.envUrl !== undefined)
      others.push({
        name: 'GLANCE_DB_URL',
        url: raw.envUrl,
        baseDir: cwd,
        why: "Glance's config named on the command line (--glance-config, --config-file, --config-dir) wins over GLANCE_DB_URL",
      });
    if (winner === OSLO_ENV_CONNECTION) pushOverriddenFiles(others, raw.glanceConfig, cwd);
  } else if (raw.envUrl !== undefined) {
    if (osUrl)
      others.push({
        name: OSLO_ENV_CONNECTION,
        url: osUrl,
        baseDir: cwd,
        why: "glance-db's own GLANCE_DB_URL wins over oslo.config's environment variable",
      });
  } else if (winner === OSLO_ENV_CONNECTION) {
    const m = manifestUrl();
    if (m)
      others.push({
        name: m.name,
        url: m.url,
        baseDir: m.baseDir,
        why: 'the environment wins over the manifest, as GLANCE_DB_URL does',
      });
    else pushOverriddenFiles(others, defaultGlanceConfigPaths(process.env), cwd);
  }
  return others;
}

/** Glance's config files `paths` name a connection that oslo.config's environment source overrides: one more loser. */
function pushOverriddenFiles(
  others: { name: string; url: string; baseDir: string; why: string }[],
  paths: string[],
  cwd: string,
): void {
  const files = quietly(() => connectionFromGlanceConfigFiles(expandGlanceConfigPaths(paths), process.env));
  if (files)
    others.push({
      name: sourceName(files),
      url: files.url,
      baseDir: cwd,
      why: `oslo.config's environment source overrides its config files, so Glance's own glance-manage would use ${OSLO_ENV_CONNECTION} too`,
    });
}

function quietly<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** --glance-config FILE|DIR ...: the connection from those files, later ones winning. */
function fromGlanceConfig(paths: string[], notices: string[]): [string, string, string] {
  const files = expandGlanceConfigPaths(paths);
  const found = connectionFromGlanceConfigFiles(files, process.env);
  if (found?.notice) notices.push(found.notice);
  if (!found) {
    const what = files.length ? files.join(', ') : `${paths.join(', ')} (no *.conf file there)`;
    throw new ConfigError(
      `${what} has no [database] connection setting (nor the deprecated [DEFAULT] sql_connection).`,
      {
        hint: 'Set [database] connection in the Glance config, or pass the database URL with --url.',
      },
    );
  }
  return [found.url, sourceName(found), process.cwd()];
}

const sourceName = (found: { file: string; name: string }) =>
  found.name === '[database] connection' ? found.file : `${found.file} ${found.name}`;

/**
 * No --url, GLANCE_DB_URL, --glance-config or manifest in the working
 * directory: what glance-manage would use, from Glance's default config files;
 * never a new database made up in the working directory.
 */
function fromDefaultGlanceConfig(notices: string[]): [string, string, string] {
  const files = expandGlanceConfigPaths(defaultGlanceConfigPaths(process.env));
  const found = connectionFromGlanceConfigFiles(files, process.env);
  if (found?.notice) notices.push(found.notice);
  if (found) return [found.url, sourceName(found), process.cwd()];
  const searched = glanceConfigSearchDirs(process.env)
    .map((d) => join(d, '{glance-api,glance-manage,glance}.conf'))
    .join(', ');
  throw new ConfigError(
    files.length
      ? `No database named: Glance's config (${files.join(', ')}) sets no [database] connection, and there is no --url, GLANCE_DB_URL, OS_DATABASE__CONNECTION, --glance-config or glance-db.yaml here.`
      : `No database named: no --url, GLANCE_DB_URL, OS_DATABASE__CONNECTION, --glance-config or glance-db.yaml in the working directory, and no Glance config found (${searched ? `looked for ${searched}` : 'no folder to look in: GLANCE_DB_GLANCE_CONFIG_DIRS is set and empty'}).`,
    {
      // Never the file just found wanting: suggesting --glance-config with it would fail the same way.
      hint: files.length
        ? `Set [database] connection in ${files.find((f) => basename(f) === 'glance-api.conf') ?? files[0]} (glance-db then finds it there, as glance-manage does), ` +
          'or name the database: --url sqlite:/var/lib/glance/glance.sqlite (or postgresql://..., mysql://...), GLANCE_DB_URL=..., or --config FILE whose database.url names it.'
        : 'Name the database: --url sqlite:/var/lib/glance/glance.sqlite (or postgresql://..., mysql://...), GLANCE_DB_URL=..., ' +
          '--glance-config with the path of the Glance config that sets [database] connection, or --config FILE whose database.url names it.',
    },
  );
}
