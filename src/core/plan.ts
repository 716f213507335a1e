// A plan: exactly the SQL sync would run, version by version (and the
// phases that finish a rolling upgrade under way), as src/app/plan.ts
// computes it and src/core/script.ts writes it out for a DBA.
import type { Dialect } from './driver/dialect.js';
import type { Phase } from './manifest/types.js';
import type { rollingJson } from './phases.js';

export interface PlannedVersion {
  version: number;
  name: string;
  file: string;
  checksum: string;
  statements: string[];
  bookkeeping: string[];
}

export interface Plan {
  dialect: Dialect;
  from: number | null;
  to: number;
  versions: PlannedVersion[];
  /** The database has the other tool's legacy migrate_version table (only known when planned against it). */
  migrateVersion: boolean;
  /** A rolling upgrade under way (planned against the database): the phases sync runs first to finish it. */
  rolling?: { state: ReturnType<typeof rollingJson>; steps: PlannedPhase[] };
}

export interface PlannedPhase {
  version: number;
  name: string;
  phase: Phase;
  /** null: nothing to run in that phase, the version is only recorded. */
  file: string | null;
  checksum: string | null;
  /** A migrate file: each statement again, in batches, until it changes no row. */
  batched: boolean;
  statements: string[];
}
