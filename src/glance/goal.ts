// The version a command aims at: the target given (`sync zed`, `check 50`,
// `--release 2023.1`), else the schema of the Glance installed on this host
// (glance/installed.ts), else the newest the manifest lists. `check` and
// `db check` measure against it, `sync` and `expand` stop there, and every
// command suggested carries it, so no message sends a zed host to 51.
import type { Manifest } from '../core/manifest/types.js';
import { installedGlance, type InstalledGlance } from '../glance/installed.js';
import { releaseLabel, releasesAt } from '../glance/releases.js';

export interface Goal {
  version: number;
  /** given: on the command line; installed: the installed Glance's schema; newest: the manifest's newest. */
  source: 'given' | 'installed' | 'newest';
  /** The word a suggested command carries (zed, 2023.1, 50); null for the newest when nothing else asked for it. */
  word: string | null;
  installed: InstalledGlance | null;
  /** The manifest's newest version. */
  newest: number;
}

const newestOf = (manifest: Manifest) => manifest.migrations[manifest.migrations.length - 1].version;

/** The goal from what was given (a version, with the word the user wrote when there was one), else the installed Glance, else the newest. */
export function resolveGoal(manifest: Manifest, given?: { version: number; word?: string }): Goal {
  const newest = newestOf(manifest);
  const installed = installedGlance();
  if (given)
    return { version: given.version, source: 'given', word: given.word ?? String(given.version), installed, newest };
  // A Glance newer than any version glance-db knows: the newest is as far as glance-db goes anyway.
  const at = installed?.schemaVersion;
  if (
    installed &&
    at !== null &&
    at !== undefined &&
    at < newest &&
    manifest.migrations.some((m) => m.version === at)
  ) {
    const r = installed.release && installed.release.version === at ? installed.release : null;
    return { version: at, source: 'installed', word: r ? (r.series ?? r.name) : String(at), installed, newest };
  }
  return { version: newest, source: 'newest', word: null, installed, newest };
}

/** "50 (zed, the installed Glance 25.1.0)", "50 (given)", "51": for messages. */
export function goalText(goal: Goal): string {
  if (goal.source === 'installed')
    return `${goal.version} (the schema of the installed Glance ${installedText(goal.installed!)})`;
  if (goal.source === 'given') {
    const rel = releasesAt(goal.version);
    return `${goal.version}${rel.length && goal.word && !/^\d+$/.test(goal.word) ? ` (${goal.word})` : ''}`;
  }
  return String(goal.version);
}

export const installedText = (i: InstalledGlance) =>
  `${i.version}${i.release && i.release.name !== i.version && i.release.series !== i.version ? `, ${releaseLabel(i.release)}` : ''}`;

/** The goal as --json shows it. */
export function goalJson(goal: Goal): Record<string, unknown> {
  return {
    version: goal.version,
    source: goal.source,
    ...(goal.word ? { target: goal.word } : {}),
    ...(goal.installed
      ? {
          installedGlance: {
            version: goal.installed.version,
            release: goal.installed.release?.name ?? null,
            schemaVersion: goal.installed.schemaVersion,
            where: goal.installed.where,
          },
        }
      : {}),
  };
}
