import type { Dialect } from '../dialects/index.js';

export interface Migration {
  version: number;
  name: string;
  description: string;
  /** Dialect -> path relative to the manifest's folder (always inside sql/). */
  files: Partial<Record<Dialect, string>>;
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
