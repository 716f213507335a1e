// Turns raw command input (flags, environment, manifest) into one resolved,
// checked RunContext, in one place (slonik's createClientConfiguration).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { connectionFromGlanceConfig } from '../glance/config.js';
import { loadManifest } from '../manifest/load.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Manifest } from '../manifest/types.js';
import { parseDatabaseUrl, registerSecretsOf, type DatabaseTarget } from '../url.js';
import type { DriverConfig } from '../drivers/driver.js';

export interface RawOptions {
  /** --config; absent means ./glance-db.yaml, else the manifest shipped with glance-db. */
  config?: string;
  url?: string;
  /** GLANCE_DB_URL, passed in by the command layer (unset and empty are both undefined). */
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

/** A path or URL flag given as '' (or blanks) is a mistake, not "use the default": refuse it rather than fall back. */
function requireNonEmpty(flag: string, value: string | undefined, instead: string): void {
  if (value !== undefined && !value.trim()) {
    throw new UsageError(`${flag} is empty.`, `Give a value, or leave ${flag} out to use ${instead}.`);
  }
}

export function resolveContext(raw: RawOptions): RunContext {
  requireNonEmpty('--config', raw.config, './glance-db.yaml');
  requireNonEmpty('--url', raw.url, "--glance-config, GLANCE_DB_URL or the manifest's database.url");
  requireNonEmpty('--glance-config', raw.glanceConfig, "GLANCE_DB_URL or the manifest's database.url");
  registerSecretsOf(raw.url);
  registerSecretsOf(raw.envUrl);
  const where = manifestPath(raw.config);
  const manifest = loadManifest(where.path);
  // The bundled manifest's relative SQLite path means "here", not "inside the installed package".
  const fromManifest = where.bundled ? 'the manifest shipped with glance-db' : manifest.path;
  const [url, urlSource, baseDir, described] = raw.url !== undefined
    ? [raw.url, '--url', process.cwd(), 'the URL given with --url']
    : raw.glanceConfig !== undefined
      ? [connectionFromGlanceConfig(raw.glanceConfig), raw.glanceConfig, process.cwd(), `[database] connection in ${raw.glanceConfig}`]
      : raw.envUrl !== undefined
      ? [raw.envUrl, 'GLANCE_DB_URL', process.cwd(), 'the URL in GLANCE_DB_URL']
      : [manifest.databaseUrl, fromManifest, where.bundled ? process.cwd() : manifest.dir, `database.url in ${fromManifest}`];
  const target = parseDatabaseUrl(url, baseDir, described);
  return {
    manifest,
    target,
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
