// Glance releases and the glance-db version each one's `glance-manage db sync`
// reaches (docs/glance-versions.md): the targets an operator names by
// release (`glance-db sync zed`, `sync 2023.2`, `--release 25.0`), and what
// `glance-db versions` lists. Release numbers: openstack/releases
// deliverables/<series>/glance.yaml.
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

/**
 * The release that brought the newest schema change a release ships: the
 * first one whose db sync reaches the version the newest release reaches
 * (2024.1 while every release after it stops at 51).
 */
export function lastSchemaChangeRelease(releases: readonly GlanceRelease[] = GLANCE_RELEASES): GlanceRelease {
  const newest = releases[releases.length - 1];
  return releases.find((r) => r.version === newest.version)!;
}

/**
 * What `glance-db versions` says of Glance's newest schema change, for the
 * manifest's newest version: none after the last release that changed it,
 * or the versions after it that no release reaches yet.
 */
export function schemaChangeNote(newestVersion: number, releases: readonly GlanceRelease[] = GLANCE_RELEASES): string {
  const changed = lastSchemaChangeRelease(releases);
  const name = changed.series ?? changed.name;
  if (newestVersion <= changed.version) return `Glance has added no schema change after ${name}.`;
  const after =
    newestVersion === changed.version + 1 ? `${newestVersion}` : `${changed.version + 1} to ${newestVersion}`;
  return `Glance's schema changes after ${name} (version ${after}) are in no release yet.`;
}

/** Every release whose db sync stops at this version. */
export const releasesAt = (version: number) => GLANCE_RELEASES.filter((r) => r.version === version);

export const revisionAt = (version: number): string | null => REVISION_FOR_VERSION[version] ?? null;
