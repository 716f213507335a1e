// Turns raw command input (flags, environment, manifest) into one resolved,
// checked RunContext, in one place (slonik's createClientConfiguration).
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { ConfigError, UsageError } from '../platform/errors.js';
import {
  connectionFromGlanceConfigFiles,
  defaultGlanceConfigPaths,
  expandGlanceConfigPaths,
  glanceConfigSearchDirs,
} from '../glance/config.js';
import { loadManifest } from '../core/manifest/load.js';
import { PACKAGE_ROOT } from '../platform/paths.js';
import { registerSecretsOf } from '../platform/url.js';
import { parseDatabaseUrl } from '../dialects/index.js';
import type { RunContext as EngineContext } from '../core/run-context.js';
import { resolveGoal, type Goal } from '../glance/goal.js';
import { glanceRules } from '../glance/rules.js';
import { writeErr } from '../platform/sink.js';

/** The run context cli resolves: the engine's, with the whole goal (why that version) for check and the messages. */
export type RunContext = EngineContext<Goal>;

export interface RawOptions {
  /** --config; absent means ./glance-db.yaml, else the manifest shipped with glance-db. */
  config?: string;
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
  lockWait: number;
  connectTimeout: number;
  statementTimeout: number;
  lockTimeout: number;
  /** --io-timeout, seconds (servers); default 60. */
  ioTimeout?: number;
  /** The target given on the command line (VERSION, --release), with the word written; else the installed Glance's or the newest (engine/goal.ts). */
  goal?: { version: number; word?: string };
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The URL without its password (a suggested command must never carry it). */
function withoutPassword(url: string): string {
  // The query's secrets too (a password, a client key's password): starred, as the hint cannot hold them.
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):\S*@/i, '$1@')
    .replace(/([?&](?:password|passwd|sslpassword|ssl_key_password)=)[^&#\s]*/gi, '$1***');
}

let toolVersionCache: string | null = null;

export function toolVersion(): string {
  if (!toolVersionCache) {
    const pkg = join(PACKAGE_ROOT, 'package.json');
    toolVersionCache = String(JSON.parse(readFileSync(pkg, 'utf8')).version);
  }
  return toolVersionCache;
}

/** The manifest installed with glance-db, used when there is none in the working directory. */
export const bundledManifest = () => join(PACKAGE_ROOT, 'glance-db.yaml');

export function manifestPath(config: string | undefined): { path: string; bundled: boolean } {
  if (config) return { path: config, bundled: false };
  if (existsSync('glance-db.yaml')) return { path: 'glance-db.yaml', bundled: false };
  return { path: bundledManifest(), bundled: true };
}

/** A path or URL flag given as '' (or blanks) is a mistake, not "use the default": refuse it rather than fall back. */
function requireNonEmpty(flag: string, value: string | undefined, instead: string): void {
  if (value !== undefined && !value.trim()) {
    throw new UsageError(`${flag} is empty.`, `Give a value, or leave ${flag} out to use ${instead}.`);
  }
}

export function resolveContext(raw: RawOptions): RunContext {
  requireNonEmpty('--config', raw.config, './glance-db.yaml');
  requireNonEmpty('--url', raw.url, "--glance-config, GLANCE_DB_URL or the manifest's database.url");
  for (const g of raw.glanceConfig ?? [])
    requireNonEmpty('--glance-config', g, "GLANCE_DB_URL or the manifest's database.url");
  registerSecretsOf(raw.url);
  registerSecretsOf(raw.envUrl);
  for (const name of [OSLO_ENV_CONNECTION, ...OSLO_ENV_UNREAD]) registerSecretsOf(raw.osloEnv?.[name]);
  const where = manifestPath(raw.config);
  const manifest = loadManifest(where.path);
  // The bundled manifest's relative SQLite path means "here", not "inside the installed package".
  const fromManifest = where.bundled ? 'the manifest shipped with glance-db' : manifest.path;
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
            : !where.bundled || raw.offline
              ? [
                  manifest.databaseUrl,
                  fromManifest,
                  where.bundled ? process.cwd() : manifest.dir,
                  `database.url in ${fromManifest}`,
                ]
              : fromConfig(fromDefaultGlanceConfig(configNotices));
  const notices = [
    ...configNotices,
    ...sourceNotices(raw, { url, urlSource, baseDir }, osUrl, () =>
      !where.bundled
        ? { url: manifest.databaseUrl, baseDir: manifest.dir, name: `database.url in ${fromManifest}` }
        : null,
    ),
  ];
  const target = parseDatabaseUrl(url, baseDir, described);
  // Query parameters glance-db does not know: said once, never an error (src/platform/tls.ts).
  for (const w of 'warnings' in target ? target.warnings : []) writeErr(`warning: ${w}\n`);
  if (!manifest.dialects.includes(target.dialect)) {
    throw new ConfigError(
      `The database URL (from ${urlSource}) is ${target.dialect}, but ${manifest.path} declares no ${target.dialect} files.`,
    );
  }
  const selection = [
    ...(raw.config ? ['--config', shellQuote(raw.config)] : []),
    ...(raw.url
      ? ['--url', shellQuote(withoutPassword(raw.url))]
      : (raw.glanceConfig ?? []).flatMap((g) => ['--glance-config', shellQuote(g)])),
  ];
  return {
    manifest,
    target,
    rules: glanceRules,
    selection,
    goal: resolveGoal(manifest, raw.goal),
    notices,
    urlSource,
    toolVersion: toolVersion(),
    runBy: runBy(),
    env: process.env,
    ...(process.env.GLANCE_DB_SYNC_BY_PHASES === '1' ? { syncByPhases: true } : {}),
    driverConfig: () => ({
      target,
      versionTable: manifest.versionTable,
      lockWaitMs: raw.lockWait * 1000,
      connectTimeoutMs: raw.connectTimeout * 1000,
      statementTimeoutMs: raw.statementTimeout * 1000,
      lockTimeoutMs: raw.lockTimeout * 1000,
      ioTimeoutMs: (raw.ioTimeout ?? 60) * 1000,
      lockLeaseMs: lockLeaseSeconds() * 1000,
    }),
  };
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
  raw: RawOptions,
  chosen: { url: string; urlSource: string; baseDir: string },
  osUrl: string | undefined,
  manifestUrl: () => { url: string; baseDir: string; name: string } | null,
): string[] {
  const others: { name: string; url: string; baseDir: string; why: string }[] = [];
  const cwd = process.cwd();
  const winner = chosen.urlSource;
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
    if (winner === OSLO_ENV_CONNECTION) {
      const files = quietly(() =>
        connectionFromGlanceConfigFiles(expandGlanceConfigPaths(raw.glanceConfig!), process.env),
      );
      if (files)
        others.push({
          name: sourceName(files),
          url: files.url,
          baseDir: cwd,
          why: `oslo.config's environment source overrides its config files, so Glance's own glance-manage would use ${OSLO_ENV_CONNECTION} too`,
        });
    }
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
    else {
      const files = quietly(() =>
        connectionFromGlanceConfigFiles(expandGlanceConfigPaths(defaultGlanceConfigPaths(process.env)), process.env),
      );
      if (files)
        others.push({
          name: sourceName(files),
          url: files.url,
          baseDir: cwd,
          why: `oslo.config's environment source overrides its config files, so Glance's own glance-manage would use ${OSLO_ENV_CONNECTION} too`,
        });
    }
  }
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

/** GLANCE_DB_LOCK_LEASE: seconds after which a silent MySQL lock holder is taken over (default 60; tests make it short). */
function lockLeaseSeconds(): number {
  const v = process.env.GLANCE_DB_LOCK_LEASE;
  if (v === undefined || v === '') return 60;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 86400)
    throw new ConfigError(
      `GLANCE_DB_LOCK_LEASE must be a whole number of seconds from 1 to 86400, not "${v.slice(0, 20)}".`,
    );
  return Number(v);
}

/** user@host of whoever runs glance-db, recorded in the version table's run_by. */
export function runBy(): string {
  let user = process.env.USER ?? process.env.LOGNAME ?? '';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (a container running as an arbitrary uid): the environment's name, if any.
  }
  return `${user || `uid ${process.getuid?.() ?? '?'}`}@${hostname()}`;
}
