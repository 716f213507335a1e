// What sync is asked and what it answers, shared by its steps (sync.ts runs them in order).
import type { Phase } from '../core/manifest/types.js';
import type { RollingState } from '../core/phases.js';
import type { Unmigrated } from '../core/rolling-order.js';
import type { StepResult } from '../core/rolling-steps.js';
import type { AdoptionPlan } from '../glance/adopt.js';

export interface SyncRequest {
  /** Target version; the newest in the manifest when absent. */
  version?: number;
  /** Record the database as already at this version (baseline) before upgrading. */
  currentVersion?: number;
  /** upgrade: refuse a database that is not under version control. */
  requireVersionControl: boolean;
  /** --backup: where to put a backup taken before anything changes. */
  backupDir?: string;
  /** --accept-drift: proceed despite schema differences, and record them in the version table's note. */
  acceptDrift?: boolean;
  /** expand, migrate or contract: only that phase of a rolling upgrade (engine/rolling.ts), instead of whole versions. */
  phase?: Phase;
  /**
   * The version is the default target (the installed Glance's schema, engine/goal.ts), not one asked for: a database
   * already past it is left as it is (nothing to do) instead of being refused as a downgrade.
   */
  defaultTarget?: boolean;
}

export interface AppliedVersion {
  version: number;
  name: string;
  ms: number;
}

export interface SyncResult {
  from: number | null;
  to: number;
  applied: AppliedVersion[];
  baselined: number[];
  /** Versions recorded from Glance's own bookkeeping in this run. */
  adopted: number[];
  upToDate: boolean;
  /** Rolling-upgrade phases run (phase commands, sync finishing a rolling upgrade, sync on Galera). */
  phases: StepResult[];
  /** Where the rolling upgrade stands after this run. */
  rolling: RollingState;
  /** The database's version after this run. */
  current: number | null;
  /** Phase commands: rows a migrate phase that already ran still has to do (they keep glance-manage's contract out). */
  unmigrated?: Unmigrated[];
}

/** A rolling upgrade stopped half way, which this run finishes (glance/adopt.ts). */
export type Finishing = NonNullable<AdoptionPlan['finish']>;
