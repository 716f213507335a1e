// The one place a version runs (dbmate's doTransaction is the anchor): begin,
// run each statement, record the version row in the same transaction, commit.
// Drivers give the primitives (src/core/driver/driver.ts); what differs between
// dialects is only whether DDL is transactional.
//
// Where it is not (MySQL), a failed version can be left partly applied, so
// the row records progress after every statement (count and hash of each):
// data statements commit atomically with their progress; DDL, which commits
// on its own, is marked "started" first, so that a run killed between the
// statement and its progress record knows the next run must re-check it. A
// later run resumes after the statements recorded (src/core/resume.ts).
import { statementHash } from '../platform/checksum.js';
import { LockLostError, type GlanceDbError } from '../platform/errors.js';
import type { Driver, RowStatus, VersionRow } from './driver/driver.js';
import { statementFailed } from './driver/failure.js';
import { interruptedBy, interruptedError } from './driver/interrupt.js';
import type { Statement } from './sql/split.js';
import type { ProgressEvent } from './progress.js';

export interface PendingVersion {
  version: number;
  name: string;
  /** Path shown in messages, relative to the manifest. */
  file: string;
  statements: Statement[];
  /** The row to record; executionMs is filled in when the version has run. */
  row: VersionRow;
  /**
   * Index of the first statement to run: 0, or (MySQL) where a failed or
   * interrupted run of this version stopped. The engine has checked that the
   * statements before it are unchanged.
   */
  resumeFrom: number;
  /** Bookkeeping run after the file, in the same transaction (the other tool's, such as alembic_version). Idempotent. */
  after: string[];
  /**
   * A rolling upgrade's next phase: the version's row has this status
   * (expanded, migrated), and is replaced by `row` with the statements,
   * instead of counting as already applied.
   */
  replaces?: RowStatus;
}

/** What applyVersion did: ran it (in ms, as recorded), or found it already recorded by a concurrent run. */
export type ApplyResult = { outcome: 'applied'; ms: number } | { outcome: 'already-applied' };

/** Called before each statement runs; `total` counts every statement of the file, resumed ones included. */
export type StatementHook = (s: Statement, total: number) => void;

/** The hook that reports each statement of a version with more than one as a progress event (sync, and rolling phases). */
export function statementEvents(
  version: number,
  name: string,
  onProgress: (e: Extract<ProgressEvent, { type: 'statement' }>) => void,
): StatementHook {
  return (s, total) => {
    if (total > 1) onProgress({ type: 'statement', version, name, index: s.index, total, text: s.text });
  };
}

/** The marker left in `error` while a DDL statement runs (non-transactional DDL). */
export const startedMarker = (index: number) => `interrupted: statement ${index + 1} had started`;

/** Statements that can commit atomically with their progress record (DML). */
const TRANSACTIONAL = /^(insert|update|delete|replace)\b/i;

function checkInterrupted(driver: Driver): void {
  if (interruptedBy()) throw interruptedError(driver.interruptedOutcome);
}

export async function applyVersion(
  driver: Driver,
  p: PendingVersion,
  onStatement: StatementHook = () => {},
): Promise<ApplyResult> {
  return driver.transactionalDdl ? inOneTransaction(driver, p, onStatement) : resumable(driver, p, onStatement);
}

/** The marker a version's row carries while its transaction runs (transactional DDL); a row that keeps it was committed part way. */
export const IN_PROGRESS = 'in progress (interrupted if this stays)';

/**
 * SQLite, PostgreSQL: the statements, the bookkeeping and the row commit
 * together, or nothing does. The row is written first, marked in progress,
 * and completed last: if anything ended the transaction before the version
 * did (a statement that commits, which version files may not hold), the
 * marked row stays behind, and the failure says so instead of "rolled back".
 */
async function inOneTransaction(driver: Driver, p: PendingVersion, onStatement: StatementHook): Promise<ApplyResult> {
  let failed: { s: Statement; err: unknown; vanished: boolean } | null = null;
  try {
    return await driver.versionTransaction(async (tx): Promise<ApplyResult> => {
      // Under the lock: a concurrent run may have applied it while we waited.
      // A row left in progress by a version whose transaction ended part way is run again from its start.
      const found = await tx.recorded(p.version);
      if (found !== null && found.status !== p.replaces && found.status !== 'failed')
        return { outcome: 'already-applied' };
      // A rolling upgrade's next phase replaces the row of the phase before.
      if (found !== null) await tx.deleteRow(p.version);
      await tx.insertRow({ ...p.row, status: 'failed', error: IN_PROGRESS, statementsApplied: 0 });
      const started = performance.now();
      for (const s of p.statements) {
        checkInterrupted(driver);
        onStatement(s, p.statements.length);
        try {
          await tx.execute(s.text);
        } catch (err) {
          if (driver.stopsRun(err)) throw err;
          // Still inside the transaction: the row written first must still be there. On PostgreSQL the
          // failed statement aborted the transaction and this read fails, which shows it was open.
          const vanished = (await tx.recorded(p.version).catch(() => true)) === null;
          failed = { s, err, vanished };
          throw err;
        }
      }
      const ms = Math.round(performance.now() - started);
      for (const a of p.after) await tx.execute(a);
      await tx.updateRow(p.version, {
        status: p.row.status,
        error: null,
        statements_applied: p.row.statementsApplied,
        execution_ms: ms,
      });
      return { outcome: 'applied', ms };
    });
  } catch (thrown) {
    if (failed === null) throw thrown;
    throw await failureOutcome(driver, p, failed, thrown);
  }
}

/**
 * A statement of a transactional version failed and the driver ended the
 * transaction: says "rolled back" only when the database shows it (the
 * row written at the start is gone again, the driver's rollback succeeded,
 * and the row was still there when the statement failed); otherwise what is known.
 */
async function failureOutcome(
  driver: Driver,
  p: PendingVersion,
  f: { s: Statement; err: unknown; vanished: boolean },
  thrown: unknown,
): Promise<GlanceDbError> {
  const position = driver.errorPosition?.(f.err);
  let row: VersionRow | undefined;
  try {
    row = (await driver.readHistory()).find((r) => r.version === p.version);
  } catch (err) {
    if (driver.stopsRun(err)) throw err;
    return statementFailed(
      p,
      f.s,
      f.err,
      `Whether it was rolled back is not known: the version table could not be read afterwards (${(err as Error).message?.split('\n')[0]}); glance-db history and glance-db verify show what is there.`,
      position,
    );
  }
  const undone = row === undefined || (p.replaces !== undefined && row.status === p.replaces);
  if (undone && thrown === f.err && !f.vanished)
    return statementFailed(
      p,
      f.s,
      f.err,
      `Rolled back: the database is still at the version before ${p.version}.`,
      position,
    );
  const before =
    f.s.index === 0 ? 'no statement before it ran' : `what statements 1 to ${f.s.index} did may be committed`;
  const failure = statementFailed(
    p,
    f.s,
    f.err,
    `Not rolled back: glance-db's transaction for version ${p.version} had already ended before this statement (something in the file ended it), so ${before}. ` +
      `${row ? `The version's row stays, marked failed. ` : ''}Check with glance-db verify and restore the backup taken before the upgrade, or undo what it lists by hand, then glance-db repair.`,
    position,
  );
  if (row?.status === 'failed') {
    await driver
      .versionTransaction((tx) =>
        tx.updateRow(p.version, { error: failure.message.slice(0, 60000), statements_applied: f.s.index }),
      )
      .catch((e) => {
        if (driver.stopsRun(e)) throw e;
      });
  }
  return failure;
}

/** MySQL: DDL commits as it goes, so progress is recorded statement by statement and a stopped version resumes. */
async function resumable(driver: Driver, p: PendingVersion, onStatement: StatementHook): Promise<ApplyResult> {
  const existing = await driver.versionTransaction(async (tx) => {
    const found = await tx.recorded(p.version);
    // A rolling upgrade's next phase starts over the row of the phase before, as a new version would.
    const state = found !== null && found.status === p.replaces ? null : found;
    if (found !== null && state === null) await tx.deleteRow(p.version);
    if (!state)
      await tx.insertRow({
        ...p.row,
        status: 'failed',
        error: 'in progress (interrupted if this stays)',
        statementsApplied: 0,
        statementHashes: [],
      });
    return state;
  });
  if (existing && existing.status !== 'failed') return { outcome: 'already-applied' };
  const hashes = p.statements.slice(0, p.resumeFrom).map((s) => statementHash(s.text));
  // A run killed between a DDL statement's own commit and its progress
  // record left "started" behind: that statement may or may not have run.
  let uncertain = String(existing?.error ?? '') === startedMarker(p.resumeFrom);
  const started = performance.now();
  for (const s of p.statements.slice(p.resumeFrom)) {
    hashes.push(statementHash(s.text));
    onStatement(s, p.statements.length);
    await runStatement(driver, p, s, hashes, uncertain);
    uncertain = false;
  }
  // The other tool's bookkeeping and the version row commit together, and only while the lock is ours.
  for (const a of p.after.filter((a) => !TRANSACTIONAL.test(a))) {
    await driver.versionTransaction(async () => {});
    checkInterrupted(driver);
    await driver.executeAlone!(a);
  }
  const ms = Math.round(performance.now() - started);
  await driver.versionTransaction(async (tx) => {
    for (const a of p.after.filter((a) => TRANSACTIONAL.test(a))) await tx.execute(a);
    await tx.updateRow(p.version, {
      status: p.row.status,
      error: null,
      checksum: p.row.checksum,
      statements_total: p.statements.length,
      applied_at: new Date().toISOString(),
      execution_ms: ms,
      tool_version: p.row.toolVersion,
    });
  });
  return { outcome: 'applied', ms };
}

/**
 * One statement, then its progress: in one transaction where InnoDB allows
 * it (DML). DDL commits on its own, so it is marked started first; if the
 * run is killed before the progress record, the next run knows that
 * statement is uncertain and accepts "already there" errors from it.
 */
async function runStatement(
  driver: Driver,
  p: PendingVersion,
  s: Statement,
  hashes: string[],
  uncertain: boolean,
): Promise<void> {
  const accept = (err: unknown) => {
    if (!(uncertain && driver.alreadyThere?.(err))) throw err;
  };
  const progress = {
    statements_applied: s.index + 1,
    statements_total: p.statements.length,
    statement_hashes: JSON.stringify(hashes),
    error: null,
  };
  checkInterrupted(driver);
  try {
    if (TRANSACTIONAL.test(s.text)) {
      // The statement, its progress and the lock check commit together; losing
      // Galera certification (error 1213) rolls all three back, and it is
      // retried, bounded (the transaction has already rolled back).
      const once = () =>
        driver.versionTransaction(async (tx) => {
          await tx.execute(s.text).catch(accept);
          checkInterrupted(driver);
          await tx.updateRow(p.version, progress);
        });
      await (driver.retryCertification ? driver.retryCertification(once) : once());
    } else {
      await driver.versionTransaction((tx) => tx.updateRow(p.version, { error: startedMarker(s.index) }));
      await driver.executeAlone!(s.text).catch(accept);
      // Interrupted or lock lost now: the "started" marker stays, and the next run re-checks this statement.
      checkInterrupted(driver);
      await driver.versionTransaction((tx) => tx.updateRow(p.version, progress));
    }
  } catch (err) {
    if (driver.stopsRun(err)) throw err;
    const done =
      s.index === 0
        ? 'no statement of this version is applied'
        : `statements 1 to ${s.index} of this version are applied and recorded`;
    const failed = statementFailed(
      p,
      s,
      err,
      `MySQL commits DDL as it goes: ${done}. Fix the cause and run glance-db sync again: it resumes at statement ${s.index + 1}.`,
    );
    await driver
      .versionTransaction((tx) => tx.updateRow(p.version, { status: 'failed', error: failed.message.slice(0, 60000) }))
      .catch((e) => {
        if (e instanceof LockLostError) throw e;
      });
    throw failed;
  }
}
