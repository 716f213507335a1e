// Rolling upgrades (docs/guide/rolling-upgrade.md): where each version stands in
// its expand, migrate and contract phases, and what a phase command has to
// run. No database access here: core/rolling.ts runs what this plans (what
// another tool's bookkeeping says meanwhile is the project's: ctx.rules).
//
// The version table records the phases in two places. `status`: expanded
// (the expand phase ran, migrate or contract still to come), migrated
// (expand and migrate ran), complete. `phases` (JSON text): every phase that
// ran or is running, each with the checksum of the file it ran (null when
// the version had nothing to do in that phase), in phase order. On MySQL a
// phase that stops half way leaves status `failed`: the last phase listed is
// the one to resume.
import { ConfigError } from '../platform/errors.js';
import type { VersionRow } from './driver/driver.js';
import { PHASES, type Manifest, type Migration, type Phase } from './manifest/types.js';
import { phaseRecord, phaseRecordText, type PhaseRecord } from './phase-record.js';
import type { Statement } from './sql/split.js';
import type { Dialect } from './driver/dialect.js';
import { application } from './driver/application.js';
import { readMigrationFile, statementsOf } from './files.js';
import { summarize } from './history.js';
import { suggest, type RunContext } from './run-context.js';

export { phaseRecord, phaseRecordText, type PhaseRecord };

/** The phases a version has work in: its whole file's phase, or those its phases list. Empty: sync only. */
export function workIn(mig: Migration): Phase[] {
  if (!mig.rolling) return [];
  if (mig.rolling !== 'phased') return [mig.rolling];
  return PHASES.filter((p) => mig.phases?.[p]);
}

/** A row written by a phase (rolling upgrade, or sync through phases on Galera), not by a whole-file sync. */
export function isPhaseRow(row: VersionRow): boolean {
  return (
    row.status === 'expanded' || row.status === 'migrated' || (row.status === 'failed' && phaseRecord(row) !== null)
  );
}

/** The phase a version needs next: expand (no row yet, or expand stopped half way), migrate, contract, or null when complete. */
export function nextPhase(mig: Migration, row: VersionRow | undefined): Phase | null {
  if (!row) return 'expand';
  if (row.status === 'complete') return null;
  if (row.status === 'failed') {
    const listed = PHASES.filter((p) => p in (phaseRecord(row) ?? {}));
    return listed[listed.length - 1] ?? 'expand';
  }
  const work = workIn(mig);
  if (row.status === 'expanded' && work.includes('migrate')) return 'migrate';
  return 'contract';
}

/** The status a version's row gets once `phase` has run: complete when no later phase has work. */
export function statusAfter(mig: Migration, phase: Phase): VersionRow['status'] {
  const later = PHASES.slice(PHASES.indexOf(phase) + 1);
  if (!workIn(mig).some((p) => later.includes(p))) return 'complete';
  return phase === 'expand' ? 'expanded' : 'migrated';
}

/** Where a rolling upgrade stands; `top` is the version it goes to. */
export interface RollingState {
  underWay: boolean;
  top: number | null;
  /** The first phase still needed by some version up to top. */
  next: Phase | null;
  /** Versions up to top still needing each phase. */
  pending: Record<Phase, number[]>;
  /** Versions whose row says expanded or migrated. */
  expanded: number[];
  migrated: number[];
}

export function rollingState(manifest: Manifest, rows: VersionRow[]): RollingState {
  const underWay = rows.some(isPhaseRow);
  const top = underWay ? Math.max(...rows.map((r) => r.version)) : null;
  const pending: Record<Phase, number[]> = { expand: [], migrate: [], contract: [] };
  if (top !== null) {
    for (const mig of manifest.migrations.filter((m) => m.version <= top)) {
      const row = rows.find((r) => r.version === mig.version);
      const next = nextPhase(mig, row);
      if (!next) continue;
      // A version needs every phase from its next one on that it has work in (expand always records it).
      for (const p of PHASES.slice(PHASES.indexOf(next)))
        if (p === next || workIn(mig).includes(p)) pending[p].push(mig.version);
    }
  }
  return {
    underWay,
    top,
    next: PHASES.find((p) => pending[p].length > 0) ?? null,
    pending,
    expanded: rows.filter((r) => r.status === 'expanded').map((r) => r.version),
    migrated: rows.filter((r) => r.status === 'migrated').map((r) => r.version),
  };
}

/** "rolling upgrade to 51 under way: 45 expanded, 46 expanded; migrate pending (44, 45, 49), contract pending (45, 46)". */
export function describeRolling(s: RollingState): string {
  const states = [...s.expanded.map((v) => `${v} expanded`), ...s.migrated.map((v) => `${v} migrated`)];
  const todo = PHASES.filter((p) => s.pending[p].length > 0).map((p) => `${p} pending (${s.pending[p].join(', ')})`);
  return `rolling upgrade to ${s.top} under way: ${states.length ? states.join(', ') : 'nothing expanded yet'}; ${todo.length ? todo.join(', ') : 'nothing left to run'}`;
}

/** The command to run next in a rolling upgrade, as the operator would paste it. */
export function nextCommand(ctx: RunContext, s: RollingState): string {
  return s.next
    ? `${suggest(ctx, s.next)}${s.next === 'contract' ? ` (once every ${application().server} node runs the new release)` : ''}`
    : suggest(ctx, 'sync');
}

/** The rolling state as --json shows it (version, check, history, the phase commands). */
export function rollingJson(s: RollingState): Record<string, unknown> {
  return {
    underWay: s.underWay,
    to: s.top,
    next: s.next,
    pending: s.pending,
    expanded: s.expanded,
    migrated: s.migrated,
  };
}

/** One thing a phase command runs: one version's file for that phase (none for a version with no work in it). */
export interface Step {
  mig: Migration;
  phase: Phase;
  /** Path shown in messages; null when the version has nothing to run in this phase (it is only recorded). */
  file: string | null;
  checksum: string | null;
  statements: Statement[];
  /** A migrate phase file: each statement is run again, one short transaction per batch, until it changes no row. */
  batched: boolean;
  /** `-- glance-db:remaining SELECT ...`: the rows still to do, for progress (and, once migrate ran, what contract waits for). */
  remaining: string | null;
  /** `-- glance-db:report NAME "LABEL" SELECT ...`: counts shown, for information, when the step runs. */
  reports: StepReport[];
  /**
   * A migrate file run again for rows left after its migrate phase ran (rows
   * written since without the value migrate gives them): run only while its
   * remaining query counts some; the row is left as it is.
   */
  topUp?: boolean;
  /** Its statements are computed from the live schema, not read from its file (an application's hook): why. */
  computed?: string;
}

export interface StepReport {
  name: string;
  label: string;
  sql: string;
}

const REMAINING = /^[ \t]*--[ \t]*glance-db:remaining[ \t]+(.+?)[ \t]*;?[ \t]*$/m;
const REPORT =
  /^[ \t]*--[ \t]*glance-db:report[ \t]+([A-Za-z][A-Za-z0-9]*)[ \t]+"([^"\n]+)"[ \t]+(.+?)[ \t]*;?[ \t]*$/gm;

/** The file a version runs in a phase (its phase file, or its whole file when the whole version belongs to that phase), read and split. */
export function stepFor(manifest: Manifest, dialect: Dialect, mig: Migration, phase: Phase): Step {
  const base = { mig, phase, file: null, checksum: null, statements: [], batched: false, remaining: null, reports: [] };
  if (!workIn(mig).includes(phase)) return base;
  const ofPhase = mig.rolling === 'phased';
  const loaded = readMigrationFile(manifest, mig, dialect, ofPhase ? phase : undefined);
  const statements = statementsOf(loaded, dialect, mig.version);
  const batched = ofPhase && phase === 'migrate';
  const reports = [...loaded.text.matchAll(REPORT)].map((r) => ({ name: r[1], label: r[2], sql: r[3] }));
  return {
    ...base,
    file: loaded.file,
    checksum: loaded.checksum,
    statements,
    batched,
    remaining: batched ? (REMAINING.exec(loaded.text)?.[1] ?? null) : null,
    reports,
  };
}

/**
 * The migrate files to run again: versions of the rolling upgrade under
 * way (above the current level, up to `upTo`) whose migrate phase already
 * ran (status migrated, or complete with migrate in `phases`) and whose
 * migrate file is batched with a remaining query. Rows written since that
 * phase ran may still need it (an old server's write that bypassed the
 * compatibility triggers, a row restored by hand): contract waits for them,
 * and migrate finishes them.
 */
export function migrateAgain(manifest: Manifest, dialect: Dialect, rows: VersionRow[], upTo: number): Step[] {
  const current = summarize(rows).current ?? -Infinity;
  return manifest.migrations
    .filter((m) => m.version > current && m.version <= upTo && m.rolling === 'phased' && m.phases?.migrate)
    .filter((m) => {
      const row = rows.find((r) => r.version === m.version);
      return (
        row !== undefined &&
        (row.status === 'migrated' || row.status === 'complete') &&
        Boolean(phaseRecord(row)?.migrate)
      );
    })
    .map((m) => ({ ...stepFor(manifest, dialect, m, 'migrate'), topUp: true }))
    .filter((s) => s.batched && s.remaining !== null);
}

/**
 * What `phase` runs over versions up to `upTo`, in version order: each
 * version whose next phase it is. A version that does not say how it runs
 * in a rolling upgrade (no `rolling:`) cannot be placed in a phase: refused.
 */
export function stepsOf(manifest: Manifest, dialect: Dialect, rows: VersionRow[], phase: Phase, upTo: number): Step[] {
  const migs = manifest.migrations.filter(
    (m) =>
      m.version <= upTo &&
      nextPhase(
        m,
        rows.find((r) => r.version === m.version),
      ) === phase,
  );
  const unplaced = migs.filter((m) => !m.rolling);
  if (unplaced.length > 0) {
    throw new ConfigError(
      `Version${unplaced.length > 1 ? 's' : ''} ${unplaced.map((m) => m.version).join(', ')} of ${manifest.path} ${unplaced.length > 1 ? 'do' : 'does'} not say how ${unplaced.length > 1 ? 'they run' : 'it runs'} in a rolling upgrade (no rolling: key), so glance-db cannot tell in which phase ${unplaced.length > 1 ? 'they' : 'it'} may run while old ${application().server} nodes serve. Nothing was changed.`,
      {
        hint: 'Add rolling: expand, migrate, contract or phased (with phases:) to the version in the manifest, or upgrade with glance-db sync (stop-the-world).',
      },
    );
  }
  return migs.map((m) => stepFor(manifest, dialect, m, phase));
}

/** Every phase of one version in order, from its next one: how sync runs a phased version on Galera. */
export function stepsOfVersion(
  manifest: Manifest,
  dialect: Dialect,
  mig: Migration,
  row: VersionRow | undefined,
): Step[] {
  const next = nextPhase(mig, row);
  if (!next) return [];
  return PHASES.slice(PHASES.indexOf(next))
    .filter((p) => p === next || workIn(mig).includes(p))
    .map((p) => stepFor(manifest, dialect, mig, p));
}

/** The row a step leaves: status after its phase, and the phase record with this phase's file. */
export function rowAfter(step: Step, before: VersionRow | undefined, base: VersionRow): VersionRow {
  const record: PhaseRecord = { ...(phaseRecord(before) ?? {}), [step.phase]: step.checksum };
  return {
    ...base,
    status: statusAfter(step.mig, step.phase),
    statementsApplied: step.statements.length,
    statementsTotal: step.statements.length,
    added: { ...base.added, phases: phaseRecordText(record) },
  };
}
