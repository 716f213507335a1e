// `history`: every row of the version table as an operator reads it, with
// its kind, when and by whom it ran, and whether its file still has the
// checksum it was recorded with. Read-only, and it works on any state the
// version table can be in (gaps, drift, failed rows): it is what you look at
// before `repair`.
import { ADDED_COLUMNS } from '../core/driver/version-table.js';
import type { VersionRow } from '../core/driver/driver.js';
import type { RunContext } from '../core/run-context.js';
import { readMigrationFile } from '../core/files.js';
import { statusOf, withExistingDatabase } from './status.js';
import { handbackPlan } from '../glance/handback.js';
import { notUnder } from './sync-refusals.js';
import { phaseRecord, rollingState, type RollingState } from '../core/phases.js';
import { isSuperseded } from '../core/superseded.js';
import { PHASES, type Manifest, type Migration, type Phase } from '../core/manifest/types.js';
import type { Dialect } from '../dialects/index.js';

export interface HistoryEntry {
  version: number;
  name: string;
  /** applied, baseline or adopted when complete; expanded or migrated (a rolling upgrade); failed or partly applied (MySQL) otherwise. */
  kind: VersionRow['kind'] | 'failed' | 'partly applied' | 'expanded' | 'migrated';
  status: VersionRow['status'];
  appliedAt: string;
  checksum: string;
  /** The file on disk against the recorded checksum (superseded: a fix sql/checksums.lock records replaced the file that ran, here or in a phase). */
  file: 'unchanged' | 'changed' | 'superseded' | 'not in the manifest' | 'unreadable';
  /** Files this row ran that a fix has superseded since: the phase (null for the whole file), the file, the checksum that ran and the file's now. */
  superseded?: { phase: Phase | null; file: string; ran: string; now: string }[];
  executionMs: number;
  statementsApplied: number;
  statementsTotal: number;
  toolVersion: string;
  error: string | null;
  /** Columns added after the first release (note, runBy, ...), when the table has them. */
  [column: string]: unknown;
}

export interface HistoryListing {
  entries: HistoryEntry[];
  /** Manifest versions with no row. */
  pending: number[];
  /** The added columns this table has, in ADDED_COLUMNS order. */
  columns: string[];
  /** Where a rolling upgrade stands. */
  rolling: RollingState;
  /** A database glance-manage manages (no glance-db row yet): its own bookkeeping, as check and verify read it. */
  glance?: { version: number; source: string; revisions: string[] };
  /** What glance-manage did beyond the version table, which the next glance-db write records (engine/handback.ts). */
  handback?: string;
}

export async function listHistory(ctx: RunContext): Promise<HistoryListing> {
  const { rows, glance, handback } = await withExistingDatabase(ctx, async (driver) => {
    if (!driver) return { rows: [] as VersionRow[], glance: null, handback: null };
    const rows = await driver.readHistory();
    if (rows.length > 0) return { rows, glance: null, handback: await handbackPlan(ctx, driver, rows) };
    return { rows, glance: await statusOf(ctx, driver), handback: null };
  });
  if (rows.length === 0 && glance?.managedBy === 'glance-manage') {
    return {
      entries: [],
      pending: ctx.manifest.migrations.map((m) => m.version),
      columns: [],
      rolling: rollingState(ctx.manifest, []),
      glance: { version: glance.version, source: glance.source, revisions: glance.revisions ?? [] },
    };
  }
  if (rows.length === 0) throw notUnder(ctx, 'history');
  const columns = ADDED_COLUMNS.map((c) => c.name).filter((c) => rows.some((r) => r.added && c in r.added));
  const entries = rows.map((r): HistoryEntry => {
    const mig = ctx.manifest.migrations.find((m) => m.version === r.version);
    let file: HistoryEntry['file'] = 'not in the manifest';
    let superseded: NonNullable<HistoryEntry['superseded']> = [];
    if (mig) {
      try {
        const now = readMigrationFile(ctx.manifest, mig, ctx.target.dialect).checksum;
        superseded = supersededFiles(ctx.manifest, mig, ctx.target.dialect, r);
        file =
          now !== r.checksum && !superseded.some((x) => x.phase === null)
            ? 'changed'
            : superseded.length
              ? 'superseded'
              : 'unchanged';
      } catch {
        file = 'unreadable';
      }
    }
    const kind =
      r.status === 'complete' || r.status === 'failed'
        ? r.status === 'complete'
          ? r.kind
          : r.statementsApplied > 0
            ? 'partly applied'
            : 'failed'
        : r.status;
    const extra = Object.fromEntries(columns.map((c) => [camel(c), r.added?.[c] ?? null]));
    return {
      version: r.version,
      name: r.name,
      kind,
      status: r.status,
      appliedAt: r.appliedAt,
      checksum: r.checksum,
      file,
      executionMs: r.executionMs,
      statementsApplied: r.statementsApplied,
      statementsTotal: r.statementsTotal,
      toolVersion: r.toolVersion,
      error: r.error,
      ...(superseded.length ? { superseded } : {}),
      ...extra,
    };
  });
  const recorded = new Set(rows.map((r) => r.version));
  return {
    entries,
    pending: ctx.manifest.migrations
      .map((m) => m.version)
      .filter((v) => !recorded.has(v) && v <= (ctx.goal?.version ?? v)),
    columns,
    rolling: rollingState(ctx.manifest, rows),
    ...(handback
      ? {
          handback: `${handback.what}: glance-db repair (or its next sync) records versions ${handback.span} as adopted, nothing run`,
        }
      : {}),
  };
}

/** The files of a row (its whole file, and each phase file in `phases`) that ran with a checksum a fix has superseded since (sql/checksums.lock). */
function supersededFiles(
  m: Manifest,
  mig: Migration,
  dialect: Dialect,
  r: VersionRow,
): NonNullable<HistoryEntry['superseded']> {
  const out: NonNullable<HistoryEntry['superseded']> = [];
  const one = (phase: Phase | null, ran: string | null | undefined) => {
    if (!ran) return;
    const ofPhase = phase !== null && mig.rolling === 'phased' ? phase : undefined;
    const now = readMigrationFile(m, mig, dialect, ofPhase);
    if (isSuperseded(m, { version: mig.version, dialect, ...(ofPhase ? { phase: ofPhase } : {}) }, ran, now.checksum))
      out.push({ phase, file: now.file, ran, now: now.checksum });
  };
  one(null, r.checksum);
  const record = phaseRecord(r) ?? {};
  for (const p of PHASES.filter((x) => x in record)) if (mig.rolling === 'phased') one(p, record[p]);
  return out;
}

/** run_by -> runBy, for JSON keys. */
export function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
