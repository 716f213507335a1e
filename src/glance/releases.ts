// Glance releases and the glance-db version each one's `glance-manage db sync`
// reaches (docs/glance-versions.md): the targets an operator names by
// release (`glance-db sync zed`, `sync 2023.2`, `--release 25.0`), and what
// `glance-db versions` lists. Release numbers: openstack/releases
// deliverables/<series>/glance.yaml.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REVISION_FOR_VERSION } from './revisions.js';

export interface GlanceRelease {
  /** Series name, lower case: liberty ... zed, antelope, ... */
  name: string;
  /** The series number from 2023 on (2023.1), else null. */
  series: string | null;
  /** Glance's own major version: 11 for liberty ... 28 for 2024.1. */
  glanceMajor: number;
  /** The newest glance-db version whose schema this release's db sync builds. */
  version: number;
}

export const GLANCE_RELEASES: GlanceRelease[] = [
  { name: 'liberty', series: null, glanceMajor: 11, version: 42 },
  { name: 'mitaka', series: null, glanceMajor: 12, version: 44 },
  { name: 'newton', series: null, glanceMajor: 13, version: 44 },
  { name: 'ocata', series: null, glanceMajor: 14, version: 45 },
  { name: 'pike', series: null, glanceMajor: 15, version: 46 },
  { name: 'queens', series: null, glanceMajor: 16, version: 46 },
  { name: 'rocky', series: null, glanceMajor: 17, version: 48 },
  { name: 'stein', series: null, glanceMajor: 18, version: 48 },
  { name: 'train', series: null, glanceMajor: 19, version: 49 },
  { name: 'ussuri', series: null, glanceMajor: 20, version: 49 },
  { name: 'victoria', series: null, glanceMajor: 21, version: 49 },
  { name: 'wallaby', series: null, glanceMajor: 22, version: 50 },
  { name: 'xena', series: null, glanceMajor: 23, version: 50 },
  { name: 'yoga', series: null, glanceMajor: 24, version: 50 },
  { name: 'zed', series: null, glanceMajor: 25, version: 50 },
  { name: 'antelope', series: '2023.1', glanceMajor: 26, version: 50 },
  { name: 'bobcat', series: '2023.2', glanceMajor: 27, version: 50 },
  { name: 'caracal', series: '2024.1', glanceMajor: 28, version: 51 },
  { name: 'dalmatian', series: '2024.2', glanceMajor: 29, version: 51 },
  { name: 'epoxy', series: '2025.1', glanceMajor: 30, version: 51 },
  { name: 'flamingo', series: '2025.2', glanceMajor: 31, version: 51 },
  { name: 'gazpacho', series: '2026.1', glanceMajor: 32, version: 51 },
];

/** "zed", "2023.1 (antelope)". */
export const releaseLabel = (r: GlanceRelease) => (r.series ? `${r.series} (${r.name})` : r.name);

/**
 * A release as an operator writes it: a series name (zed, Antelope), a series
 * number (2023.2), or a Glance version (25.0, 28.0.0, 28.1.2); null if none.
 */
export function findRelease(text: string): GlanceRelease | null {
  const t = text.trim().toLowerCase();
  const byName = GLANCE_RELEASES.find((r) => r.name === t || r.series === t);
  if (byName) return byName;
  const m = /^(\d{2})\.\d+(?:\.\d+)*(?:[.-]?(?:0b|b|rc)\d+)?$/.exec(t);
  if (m && !/^20\d\d\.\d$/.test(t)) return GLANCE_RELEASES.find((r) => r.glanceMajor === Number(m[1])) ?? null;
  return null;
}

/** Every release whose db sync stops at this version. */
export const releasesAt = (version: number) => GLANCE_RELEASES.filter((r) => r.version === version);

export const revisionAt = (version: number): string | null => REVISION_FOR_VERSION[version] ?? null;

/**
 * The Glance installed on this host, from its Python package metadata
 * (glance-X.dist-info/METADATA or glance-X.egg-info/PKG-INFO) in the usual
 * site-packages folders, Kolla's venv included. GLANCE_DB_GLANCE_SITE_PACKAGES
 * (colon-separated folders) replaces the search; it exists for tests.
 */
export function installedGlance(env: NodeJS.ProcessEnv = process.env): { version: string; release: GlanceRelease | null; where: string } | null {
  const dirs = env.GLANCE_DB_GLANCE_SITE_PACKAGES !== undefined ? env.GLANCE_DB_GLANCE_SITE_PACKAGES.split(':').filter(Boolean) : sitePackages();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = /^glance-(\d[^-]*?)\.(dist-info|egg-info)$/.exec(n);
      if (!m) continue;
      let version = m[1];
      try {
        const meta = readFileSync(join(dir, n, m[2] === 'dist-info' ? 'METADATA' : 'PKG-INFO'), 'utf8');
        version = /^Version:\s*(\S+)/m.exec(meta)?.[1] ?? version;
      } catch {
        // the folder name carries the version too
      }
      return { version, release: findRelease(version), where: join(dir, n) };
    }
  }
  return null;
}

function sitePackages(): string[] {
  const roots = ['/usr/lib/python3/dist-packages', '/usr/local/lib/python3/dist-packages'];
  for (const base of ['/usr/lib', '/usr/local/lib', '/var/lib/kolla/venv/lib', '/opt/stack/venv/lib']) {
    try {
      for (const d of readdirSync(base)) if (/^python3(\.\d+)?$/.test(d)) roots.push(join(base, d, 'site-packages'), join(base, d, 'dist-packages'));
    } catch {
      // not there
    }
  }
  return roots;
}
