// The Glance installed on this host, read from files, never by running
// Python (a no-op sync runs on every deploy; importing glance takes seconds).
// Its release is the default target of sync, expand, check and db check and
// of every suggested command (engine/goal.ts): a database past it is one
// its glance-manage cannot read ("Can't locate revision 2024_1_contract01").
//
// What decides the schema is what its glance-manage reaches: the contract
// head among the files of glance/db/sqlalchemy/alembic_migrations/versions/
// (zed ships wallaby_contract01 as its newest, 2024.1 2024_1_contract01).
// The package version (glance-X.dist-info/METADATA, glance-X.egg-info/PKG-INFO,
// or glance/db/migration.py CURRENT_RELEASE) names the release for messages,
// and decides alone when the versions folder is not there.
//
// GLANCE_DB_GLANCE_RELEASE: unset or "auto" detects; "none" means no Glance
// here (a container beside no Glance, tests); a release or version (zed,
// 2023.1, 25.1.0, 50) says which one without looking.
// GLANCE_DB_GLANCE_SITE_PACKAGES (colon-separated folders) replaces the
// folders searched; tests point it at a fixture tree.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../platform/errors.js';
import { findRelease, GLANCE_RELEASES, type GlanceRelease } from './releases.js';
import { CONTRACT_CHAIN } from './revisions.js';

export interface InstalledGlance {
  /** The package version (25.1.0), or what GLANCE_DB_GLANCE_RELEASE said. */
  version: string;
  /** Its release, when glance-db knows it; null for a Glance newer than glance-db's table. */
  release: GlanceRelease | null;
  /** The glance-db version its glance-manage db sync reaches; null when newer than every version glance-db knows. */
  schemaVersion: number | null;
  /** The newest contract revision its glance-manage knows (wallaby_contract01 for zed), when read from its files. */
  head: string | null;
  /** Where it was found: a folder, or GLANCE_DB_GLANCE_RELEASE. */
  where: string;
}

const ENV = 'GLANCE_DB_GLANCE_RELEASE';
let cache: { key: string; value: InstalledGlance | null } | null = null;

/** Where the environment comes from when a caller gives none: the process's, as the CLI hands it in; else none. */
let environment: () => NodeJS.ProcessEnv = () => ({});

/**
 * Put in place by the CLI as a run starts (src/cli/base-command.ts): the
 * process's environment, read at each call (a run in process, src/cli/run-cli.ts,
 * has its own for its duration).
 */
export function useGlanceEnvironment(read: () => NodeJS.ProcessEnv): void {
  environment = read;
}

/** The installed Glance (or the one GLANCE_DB_GLANCE_RELEASE names); null when there is none. */
export function installedGlance(env: NodeJS.ProcessEnv = environment()): InstalledGlance | null {
  const key = `${env[ENV] ?? ''}\0${env.GLANCE_DB_GLANCE_SITE_PACKAGES ?? '\0'}`;
  if (cache?.key === key) return cache.value;
  const given = fromEnv(env);
  const value = given === undefined ? detect(env) : given;
  cache = { key, value };
  return value;
}

function fromEnv(env: NodeJS.ProcessEnv): InstalledGlance | null | undefined {
  const text = env[ENV]?.trim();
  if (text === undefined || text === '' || text.toLowerCase() === 'auto') return undefined;
  if (text.toLowerCase() === 'none') return null;
  if (/^\d{1,3}$/.test(text)) {
    const v = Number(text);
    if (!CONTRACT_CHAIN.some(([, ver]) => ver === v)) throw badEnv(text);
    const release = [...GLANCE_RELEASES].reverse().find((r) => r.version === v) ?? null;
    return { version: text, release, schemaVersion: v, head: null, where: ENV };
  }
  const release = findRelease(text);
  // A Glance version newer than glance-db's table (33.0.0): no release known, the newest schema.
  if (!release && !/^\d{2}\.\d+(\.\d+)*$/.test(text)) throw badEnv(text);
  return { version: text, release, schemaVersion: release?.version ?? null, head: null, where: ENV };
}

const badEnv = (text: string) =>
  new ConfigError(
    `${ENV} must be auto, none, a Glance release (zed, 2023.1), a Glance version (25.1.0) or a schema version (50), not ${/^[\w.-]{1,40}$/.test(text) ? `"${text}"` : 'what is set'}.`,
    {
      hint: `Unset it to detect the installed Glance; ${ENV}=none where glance-db runs beside no Glance.`,
    },
  );

function detect(env: NodeJS.ProcessEnv): InstalledGlance | null {
  const dirs =
    env.GLANCE_DB_GLANCE_SITE_PACKAGES !== undefined
      ? env.GLANCE_DB_GLANCE_SITE_PACKAGES.split(':').filter(Boolean)
      : sitePackages();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const meta = names.map((n) => /^glance-(\d[^-]*?)\.(dist-info|egg-info)$/.exec(n)).find((m) => m !== null);
    const hasPackage = names.includes('glance');
    if (!meta && !hasPackage) continue;
    let version = meta?.[1] ?? null;
    if (meta) {
      try {
        const text = readFileSync(join(dir, meta[0], meta[2] === 'dist-info' ? 'METADATA' : 'PKG-INFO'), 'utf8');
        version = /^Version:\s*(\S+)/m.exec(text)?.[1] ?? version;
      } catch {
        // the folder name carries the version too
      }
    }
    let release = version ? findRelease(version) : null;
    if (!release && hasPackage) release = currentRelease(join(dir, 'glance'));
    const head = hasPackage ? contractHead(join(dir, 'glance')) : undefined;
    if (!meta && head === undefined && !release) continue;
    // The versions folder decides the schema: it is what glance-manage runs.
    const schemaVersion =
      head !== undefined ? (head ? CONTRACT_CHAIN.find(([r]) => r === head)![1] : null) : (release?.version ?? null);
    const where = meta ? join(dir, meta[0]) : join(dir, 'glance');
    return { version: version ?? release?.name ?? '?', release, schemaVersion, head: head ?? null, where };
  }
  return null;
}

/**
 * The newest contract revision among Alembic's version files; null when
 * one of them is a revision glance-db does not know (a newer Glance);
 * undefined when there is no such folder.
 */
function contractHead(pkg: string): string | null | undefined {
  let files: string[];
  try {
    files = readdirSync(join(pkg, 'db', 'sqlalchemy', 'alembic_migrations', 'versions'));
  } catch {
    return undefined;
  }
  const revisions = files.filter((f) => f.endsWith('.py') && f !== '__init__.py').map((f) => f.slice(0, -3));
  if (revisions.length === 0) return undefined;
  let best = -1;
  for (const file of revisions) {
    // liberty_initial, ocata_contract01_drop_is_public, 2024_1_expand01_...: the longest known revision it starts with.
    const known = CONTRACT_CHAIN.findIndex(([r]) => file === r || file.startsWith(`${r}_`));
    // A contract revision glance-db does not know: a Glance newer than glance-db.
    if (known === -1 && /contract\d\d/.test(file)) return null;
    best = Math.max(best, known);
  }
  return best === -1 ? undefined : CONTRACT_CHAIN[best][0];
}

/** glance/db/migration.py's CURRENT_RELEASE = 'zed' ('2023_1' from 2023.1 on). */
function currentRelease(pkg: string): GlanceRelease | null {
  try {
    const text = readFileSync(join(pkg, 'db', 'migration.py'), 'utf8');
    const m = /^CURRENT_RELEASE\s*=\s*['"]([\w.]+)['"]/m.exec(text);
    return m ? findRelease(m[1].replace(/^(20\d\d)_(\d)$/, '$1.$2')) : null;
  } catch {
    return null;
  }
}

function sitePackages(): string[] {
  const roots = ['/usr/lib/python3/dist-packages', '/usr/local/lib/python3/dist-packages'];
  for (const base of [
    '/usr/lib',
    '/usr/local/lib',
    '/var/lib/kolla/venv/lib',
    '/opt/stack/venv/lib',
    '/openstack/venvs/glance/lib',
  ]) {
    try {
      for (const d of readdirSync(base))
        if (/^python3(\.\d+)?$/.test(d)) roots.push(join(base, d, 'site-packages'), join(base, d, 'dist-packages'));
    } catch {
      // not there
    }
  }
  return roots;
}

/**
 * The contract head the installed Glance's glance-manage holds at its own
 * schema: read from its versions folder, else (a release named by
 * GLANCE_DB_GLANCE_RELEASE) by release: 2023.1 and 2023.2 (Glance 26, 27)
 * brought xena..2023_1 revisions and hold 2023_1_contract01 at 50; earlier
 * releases at 50 hold wallaby_contract01. null when none is installed (or
 * unknown): glance-db then writes the first revision of each version.
 */
export function installedContractHead(env: NodeJS.ProcessEnv = environment()): string | null {
  let g: InstalledGlance | null;
  try {
    g = installedGlance(env);
  } catch {
    // A bad GLANCE_DB_GLANCE_RELEASE is reported where the target is resolved; here it names no release.
    return null;
  }
  if (!g) return null;
  if (g.head) return g.head;
  const major = g.release?.glanceMajor;
  if (major === 26 || major === 27) return '2023_1_contract01';
  return null;
}
