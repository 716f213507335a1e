import type { Dialect } from '../driver/dialect.js';

/** The three steps of a rolling upgrade, in the order they run (docs/guide/rolling-upgrade.md). */
export type Phase = 'expand' | 'migrate' | 'contract';
export const PHASES: Phase[] = ['expand', 'migrate', 'contract'];

/** How a version runs in a rolling upgrade: its whole file in one phase, or a file per phase. */
export type Rolling = Phase | 'phased';

export type SqlFiles = Partial<Record<Dialect, string>>;

export interface Migration {
  version: number;
  name: string;
  description: string;
  /** Dialect -> path relative to the manifest's folder (always inside sql/). The whole version, as sync runs it. */
  files: SqlFiles;
  /** Absent: the version runs only with sync (a version a site added without saying). */
  rolling?: Rolling;
  /** rolling: phased only: the file per dialect of each phase it has work in. */
  phases?: Partial<Record<Phase, SqlFiles>>;
}

/**
 * The version changes data only, no schema (the shipped manifest's 44 and
 * 49): safe to run again, and no expand step brings it in. Read from how it
 * rolls: its whole file is a migrate step (`rolling: migrate`), or it is
 * phased with a migrate phase alone. So a site's manifest written before
 * this was asked needs no new attribute.
 */
export function isDataOnly(m: Migration): boolean {
  if (m.rolling === 'migrate') return true;
  const phases = Object.keys(m.phases ?? {});
  return m.rolling === 'phased' && phases.length === 1 && phases[0] === 'migrate';
}

/** The manifest as loaded and checked: every field defaulted, every file known to exist. */
export interface Manifest {
  /** Absolute path of glance-db.yaml. */
  path: string;
  /** Folder of the manifest; file paths and a relative SQLite URL are relative to it. */
  dir: string;
  databaseUrl: string;
  versionTable: string;
  dialects: Dialect[];
  /** Sorted by version, ascending. */
  migrations: Migration[];
}
