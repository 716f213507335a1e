// Sync's last step: the versions still to run, each prepared (statements, resume point, Glance's bookkeeping)
// before the first one runs, then applied one per transaction, or through its phases on a Galera node.
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { newVersionRow } from '../core/driver/version-table.js';
import { applyVersion, statementEvents, type PendingVersion } from '../core/apply.js';
import type { Migration } from '../core/manifest/types.js';
import type { ReadVersion } from '../core/files.js';
import type { ProgressEvent } from '../core/progress.js';
import { resumePoint } from '../core/resume.js';
import { syncsByPhases, versionSteps } from '../core/rolling.js';
import { runSteps, type StepResult } from '../core/rolling-steps.js';
import type { RunContext } from '../core/run-context.js';
import { bookkeepingStatements, createAlembicVersionSql } from '../glance/bookkeeping.js';
import type { AppliedVersion, Finishing } from './sync-types.js';
import { computedStatements, type Statement } from '../core/driver/statement.js';

/** The versions the plan runs whole (app/plan.ts syncPlan), their files, and a rolling upgrade to finish. */
export interface ToApply {
  ctx: RunContext;
  driver: Driver;
  versions: Migration[];
  rows: VersionRow[];
  files: Map<number, ReadVersion>;
  finishing: Finishing | null;
}

/**
 * Applies the planned versions that `rows` does not record complete (a concurrent run's are left); `rolled` holds the phases run before
 * and gets those run here. For sync the unit is the version: one that its last phase completed is reported
 * applied, as a whole version would be.
 */
export async function applyVersions(
  todo: ToApply,
  rolled: StepResult[],
  onProgress: (e: ProgressEvent) => void,
): Promise<{ applied: AppliedVersion[]; pending: number }> {
  const { ctx, driver, finishing } = todo;
  const applied: AppliedVersion[] = [];
  const completed = (results: StepResult[]) => {
    for (const r of results.filter((x) => x.complete)) {
      const ms = results.filter((x) => x.version === r.version).reduce((t, x) => t + x.ms, 0);
      applied.push({ version: r.version, name: r.name, ms });
      onProgress({ type: 'applied', version: r.version, name: r.name, ms });
    }
  };
  completed(rolled);
  const ready = await prepare(todo);
  // On a Galera node a version with phases runs through them: its data step in batches (issue 18). Never 45 on a
  // rolling upgrade glance-manage expanded: straight after its expand (finishing) versions run whole, and once
  // glance-db migrate recorded that expand (glance/continue.ts) the plan's rolling steps finished it (sync.ts
  // syncPlanned), with 45's computed contract.
  const byPhases = !finishing && ready.length > 0 && (await syncsByPhases(ctx, driver));
  // alembic_version is created (IF NOT EXISTS) by every version's bookkeeping; once a version of this run has
  // committed its bookkeeping the table is there, and the later versions skip that statement (a round trip each).
  const createAlembic = createAlembicVersionSql(driver.dialect);
  let alembicThere = false;
  for (const p of ready) {
    const steps = byPhases ? versionSteps(ctx, driver.dialect, p.version, await driver.readHistory()) : [];
    if (steps.length) {
      const results = await runSteps(ctx, driver, steps, onProgress);
      rolled.push(...results);
      completed(results);
      continue;
    }
    onProgress({ type: 'start', version: p.version, name: p.name });
    const creates = p.after.includes(createAlembic);
    if (alembicThere) p.after = p.after.filter((a) => a !== createAlembic);
    // Prepared before the first version ran: the time is when this one starts.
    const result = await applyVersion(
      driver,
      { ...p, row: { ...p.row, appliedAt: new Date().toISOString() } },
      statementEvents(p.version, p.name, onProgress),
    );
    // Applied, or found applied by a concurrent run: either way its bookkeeping committed.
    alembicThere ||= creates;
    if (result.outcome === 'applied') {
      applied.push({ version: p.version, name: p.name, ms: result.ms });
      onProgress({ type: 'applied', version: p.version, name: p.name, ms: result.ms });
    } else onProgress({ type: 'skipped', version: p.version, name: p.name });
  }
  return { applied, pending: ready.length };
}

/** Every pending version prepared (statements, resume point) before the first one runs. */
async function prepare({ ctx, driver, versions, rows, files, finishing }: ToApply): Promise<PendingVersion[]> {
  const done = new Set(rows.filter((r) => r.status === 'complete').map((r) => r.version));
  const pending = versions.filter((m) => !done.has(m.version));
  const hasMigrateVersion = pending.length > 0 && (await driver.listTables()).includes('migrate_version');
  return pending.map((mig) => {
    // A finishing step stopped half way (MySQL) is computed again from the live schema and run from its start: its statements are written to be rerun.
    const partial = finishing && mig.version === 45 ? undefined : rows.find((r) => r.version === mig.version);
    const p = pendingVersion(ctx, driver, mig, files.get(mig.version)!, partial, hasMigrateVersion);
    if (finishing) finishInPlace(p, finishing);
    return p;
  });
}

function pendingVersion(
  ctx: RunContext,
  driver: Driver,
  mig: Migration,
  read: ReadVersion,
  partial: VersionRow | undefined,
  hasMigrateVersion: boolean,
): PendingVersion {
  const { loaded, statements } = read;
  const row = newVersionRow(ctx, {
    version: mig.version,
    name: mig.name,
    dialect: driver.dialect,
    checksum: loaded.checksum,
    kind: 'applied',
    statementsApplied: statements.length,
    statementsTotal: statements.length,
  });
  const resumeFrom = partial ? resumePoint(partial, statements, loaded.file) : 0;
  const after = bookkeepingStatements(mig.version, driver.dialect, hasMigrateVersion);
  return { version: mig.version, name: mig.name, file: loaded.file, statements, row, resumeFrom, after };
}

/** A rolling upgrade stopped half way: 45 runs the statements that finish Ocata's change; versions whose expand ran are recorded as they come. */
function finishInPlace(p: PendingVersion, f: Finishing): void {
  const done = finishedInPlace(p, f);
  p.after = done.after;
  if (done.how === 'computed') {
    p.statements = done.statements;
    p.row = { ...p.row, statementsApplied: p.statements.length, statementsTotal: p.statements.length, note: f.note };
  } else if (done.how === 'adopted') {
    p.statements = [];
    p.row = { ...p.row, kind: 'adopted', statementsApplied: 0, note: f.note };
  }
}

/**
 * What a version runs while sync finishes a rolling upgrade glance-manage left half way (the statements and the
 * bookkeeping after them): the same for sync (finishInPlace) and for plan / --dry-run (app/plan.ts).
 */
export function finishedInPlace(
  p: Pick<PendingVersion, 'version' | 'file' | 'statements' | 'after'>,
  f: Finishing,
): { statements: Statement[]; after: string[]; how: 'computed' | 'adopted' | null } {
  // Until the last expanded version is recorded, alembic_version keeps the expand head too: a run stopped on the way is found and finished again.
  const after =
    p.version < f.expandedTo && p.after.length > 0
      ? [...p.after, `INSERT INTO alembic_version (version_num) VALUES ('${f.expandHead}')`]
      : p.after;
  const computed = `version ${p.version}, computed from the live schema to finish glance-manage's rolling upgrade (not a line of ${p.file})`;
  if (p.version === 45 && f.statements45)
    return { statements: computedStatements(f.statements45, computed), after, how: 'computed' };
  // Built by the expand step already: recorded (and alembic_version moved on) without running anything.
  if (f.adoptInPlace.includes(p.version)) return { statements: [], after, how: 'adopted' };
  return { statements: p.statements, after, how: null };
}
