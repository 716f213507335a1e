// A plan: exactly the SQL sync would run, version by version (and the
// phases that finish a rolling upgrade under way). syncSteps computes what
// sync runs from a history; src/app/plan.ts renders it as a Plan, which
// src/core/script.ts writes out for a DBA, and sync applies it.
import type { Dialect } from './driver/dialect.js';
import type { VersionRow } from './driver/driver.js';
import type { Migration, Phase } from './manifest/types.js';
import { summarize } from './history.js';
import { rollingState, type RollingState, type rollingJson, type Step } from './phases.js';
import { plannedSteps } from './rolling.js';
import type { RunContext } from './run-context.js';

export interface PlannedVersion {
  version: number;
  name: string;
  file: string;
  checksum: string;
  statements: string[];
  bookkeeping: string[];
  /** The statements are not the file's (computed from the live schema, or none: recorded only): why. */
  computed?: string;
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
  /** The statements are computed from the live schema instead of the file's (what sync runs): why. */
  computed?: string;
}

/**
 * What a sync run does from a history, computed once (issue 29): the phases that finish a rolling upgrade under
 * way, then the whole versions up to `to`. `plan` and `--dry-run` list it (src/app/plan.ts renders it), sync
 * applies it (src/app/sync.ts): what they show is what sync runs.
 */
export interface SyncSteps {
  /** Where the whole versions start: the version the rolling upgrade goes to, else the recorded level. */
  from: number | null;
  to: number;
  /** A rolling upgrade under way: where it stands, and its steps (expand, migrate, contract in turn). */
  rolling?: { state: RollingState; steps: Step[] };
  /** The versions run whole after it, in order. */
  versions: Migration[];
}

/**
 * The steps from the history `rows` (none: planned from `from` alone, offline or before a database is placed).
 * A rolling upgrade under way is finished first, up to the version it goes to; then every version up to `to`
 * that the history does not record complete runs whole.
 */
export function syncSteps(
  ctx: RunContext,
  dialect: Dialect,
  rows: VersionRow[],
  to: number,
  from: number | null = summarize(rows).current,
): SyncSteps {
  const state = rollingState(ctx.manifest, rows);
  const done = new Set(rows.filter((r) => r.status === 'complete').map((r) => r.version));
  const above = (start: number | null) =>
    ctx.manifest.migrations.filter((m) => m.version <= to && (start === null || m.version > start));
  if (state.underWay) {
    const steps = plannedSteps(ctx, dialect, rows, 'finish', state.top!);
    return { from: state.top, to, rolling: { state, steps }, versions: above(state.top) };
  }
  return { from, to, versions: above(rows.length > 0 ? null : from).filter((m) => !done.has(m.version)) };
}
