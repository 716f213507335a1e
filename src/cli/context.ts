// Turns raw command input (flags, environment, manifest) into one resolved,
// checked RunContext, in one place (slonik's createClientConfiguration).
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../platform/errors.js';
import { loadManifest } from '../core/manifest/load.js';
import { PACKAGE_ROOT } from '../platform/paths.js';
import { registerSecretsOf } from '../platform/url.js';
import { parseDatabaseUrl } from '../dialects/index.js';
import type { RunContext as EngineContext } from '../core/run-context.js';
import { resolveGoal, type Goal } from '../glance/goal.js';
import { glanceRules } from '../glance/rules.js';
import { writeErr } from '../platform/sink.js';
import { chooseDatabase, OSLO_ENV_CONNECTION, OSLO_ENV_UNREAD, type DatabaseOptions } from './database-source.js';

/** The run context cli resolves: the engine's, with the whole goal (why that version) for check and the messages. */
export type RunContext = EngineContext<Goal>;

export interface RawOptions extends DatabaseOptions {
  /** --config; absent means ./glance-db.yaml, else the manifest shipped with glance-db. */
  config?: string;
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
  const { url, urlSource, baseDir, described, notices } = chooseDatabase(raw, manifest, where.bundled);
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
