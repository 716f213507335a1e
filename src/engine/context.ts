// Turns raw command input (flags, environment, manifest) into one resolved,
// checked RunContext, in one place (slonik's createClientConfiguration).
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { connectionFromGlanceConfig } from '../glance/config.js';
import { loadManifest } from '../manifest/load.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Manifest } from '../manifest/types.js';
import { parseDatabaseUrl, type DatabaseTarget } from '../url.js';
import type { DriverConfig } from '../drivers/driver.js';

export interface RawOptions {
  /** --config; absent means ./glance-db.yaml, else the manifest shipped with glance-db. */
  config?: string;
  url?: string;
  /** GLANCE_DB_URL, passed in by the command layer. */
  envUrl?: string;
  /** --glance-config: Glance's own config file, whose [database] connection is the URL. */
  glanceConfig?: string;
  lockWait: number;
  connectTimeout: number;
  statementTimeout: number;
  lockTimeout: number;
}

export interface RunContext {
  manifest: Manifest;
  target: DatabaseTarget;
  /** Where the URL came from, for messages: --url, GLANCE_DB_URL or the manifest. */
  urlSource: string;
  toolVersion: string;
  driverConfig(create: boolean): DriverConfig;
  /** The flags that selected the manifest and the database, shell-quoted, password left out: suggested commands repeat them. */
  selection: string[];
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A glance-db command line to suggest, carrying the --config/--url/--glance-config the user gave. */
export function suggest(ctx: Pick<RunContext, 'selection'>, args: string): string {
  return ['glance-db', args, ...ctx.selection].filter(Boolean).join(' ');
}

/** The URL without its password (a suggested command must never carry it). */
function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):\S*@/i, '$1@');
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
export const BUNDLED_MANIFEST = join(PACKAGE_ROOT, 'glance-db.yaml');

export function manifestPath(config: string | undefined): { path: string; bundled: boolean } {
  if (config) return { path: config, bundled: false };
  if (existsSync('glance-db.yaml')) return { path: 'glance-db.yaml', bundled: false };
  return { path: BUNDLED_MANIFEST, bundled: true };
}

export function resolveContext(raw: RawOptions): RunContext {
  const where = manifestPath(raw.config);
  const manifest = loadManifest(where.path);
  // The bundled manifest's relative SQLite path means "here", not "inside the installed package".
  const [url, urlSource, baseDir] = raw.url
    ? [raw.url, '--url', process.cwd()]
    : raw.glanceConfig
      ? [connectionFromGlanceConfig(raw.glanceConfig), raw.glanceConfig, process.cwd()]
      : raw.envUrl
      ? [raw.envUrl, 'GLANCE_DB_URL', process.cwd()]
      : [manifest.databaseUrl, where.bundled ? 'the manifest shipped with glance-db' : manifest.path, where.bundled ? process.cwd() : manifest.dir];
  const target = parseDatabaseUrl(url, baseDir);
  if (!manifest.dialects.includes(target.dialect)) {
    throw new ConfigError(`The database URL (from ${urlSource}) is ${target.dialect}, but ${manifest.path} declares no ${target.dialect} files.`);
  }
  const selection = [
    ...(raw.config ? ['--config', shellQuote(raw.config)] : []),
    ...(raw.url ? ['--url', shellQuote(withoutPassword(raw.url))] : raw.glanceConfig ? ['--glance-config', shellQuote(raw.glanceConfig)] : []),
  ];
  return {
    manifest,
    target,
    selection,
    urlSource,
    toolVersion: toolVersion(),
    driverConfig: (create) => ({
      target,
      versionTable: manifest.versionTable,
      lockWaitMs: raw.lockWait * 1000,
      connectTimeoutMs: raw.connectTimeout * 1000,
      statementTimeoutMs: raw.statementTimeout * 1000,
      lockTimeoutMs: raw.lockTimeout * 1000,
      create,
    }),
  };
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
