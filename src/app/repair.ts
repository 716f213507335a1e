// `repair`: the way out of every state the version table can be wrong in,
// decided by the live schema, never by guessing (Flyway's repair and
// golang-migrate's force are the anchors; this is stricter than both):
//   - a gap below the recorded level: the missing rows are re-recorded
//     (kind baseline, nothing run) only when the schema is exactly that of
//     the recorded level (a known Glance variant of it, or differences
//     accepted with --accept-drift, count as that level, as in check);
//   - a failed or partly applied row (MySQL): removed only when the schema
//     is exactly that of the level below it and nothing of it with a schema
//     effect ran (no statement, or a data-only version), so sync runs it
//     again from its start; a schema half way is for sync to resume;
//   - a changed checksum: re-recorded only with --accept-checksum VERSION,
//     after printing what changed, and only when the schema is that of the
//     recorded level.
// Anything else, and a schema that matches no known version, is refused
// with nothing changed. --dry-run prints the same plan and changes nothing.
import { isDataOnly } from '../core/manifest/types.js';
import { ChecksumMismatchError, GlanceDbError, UnknownVersionError, UsageError } from '../platform/errors.js';
import { describeRolling, nextCommand, rollingState } from '../core/phases.js';
import { statementHash } from '../platform/checksum.js';
import type { Driver, VersionRow } from '../core/driver/driver.js';
import { createDriver } from '../dialects/create-driver.js';
import { insertSql, newVersionRow, rowValues } from '../core/driver/version-table.js';
import { diffSchemas } from '../core/introspect/diff.js';
import { introspect } from '../core/introspect/index.js';
import type { SchemaModel } from '../core/introspect/model.js';
import { bookkeepingTables, expectedSchema } from '../core/introspect/snapshot.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { readVersions, type ReadVersion } from '../core/files.js';
import { isSuperseded } from '../core/superseded.js';
import { classify } from '../core/drift.js';
import { historyGaps, summarize } from '../core/history.js';
import { notUnder } from './sync-refusals.js';
import {
  ensureGlanceBookkeeping,
  handbackPlan,
  handbackStatements,
  historyMovedError,
  recordHandback,
  type Handback,
} from '../glance/handback.js';

export interface RepairAction {
  version: number;
  /** What it does, for the operator. */
  text: string;
  sql: string;
  params: unknown[];
}

export interface RepairResult {
  dryRun: boolean;
  /** The live schema against each known version: the versions it equals. */
  schemaMatches: number[];
  recorded: number | null;
  actions: RepairAction[];
  /** Lines printed before the actions (what was found, the checksum diff). */
  findings: string[];
}

export class RepairRefusedError extends GlanceDbError {
  constructor(message: string, hint: string, fields: Record<string, unknown> = {}) {
    super('REPAIR_REFUSED', `${message} Nothing was changed.`, { hint, fields });
  }
}

export async function repair(
  ctx: RunContext,
  opts: { dryRun: boolean; acceptChecksum?: number },
): Promise<RepairResult> {
  const driver = await createDriver(ctx.driverConfig());
  try {
    await driver.open();
    if (!driver.exists()) throw notUnder(ctx, 'repair');
    if (!opts.dryRun) await driver.lock();
    return await repairLocked(ctx, driver, opts);
  } finally {
    await driver.close();
  }
}

async function repairLocked(
  ctx: RunContext,
  driver: Driver,
  opts: { dryRun: boolean; acceptChecksum?: number },
): Promise<RepairResult> {
  const rows = await driver.readHistory();
  if (rows.length === 0) throw notUnder(ctx, 'repair');
  // glance-manage went on from where glance-db stopped (its contract, its sync; a glance-db phase
  // that then failed on what it had already done): the schema and Alembic's heads say where the
  // database is, and that is recorded, whatever the version table says of the versions up to it.
  const handback = await handbackPlan(ctx, driver, rows);
  if (handback) return repairHandback(ctx, driver, rows, handback, opts.dryRun);
  refuseUnjudgeable(ctx, rows);
  const j = await judge(ctx, driver, rows);
  const actions = [...checksumActions(j, opts.acceptChecksum), ...(await gapActions(j)), ...partialRowActions(j)];
  if (actions.length > 0 && !opts.dryRun) {
    await driver.ensureVersionTable();
    await driver.editHistory(actions.map((a) => ({ sql: a.sql, params: a.params })));
  }
  // Glance's bookkeeping as glance-manage expects it for what the version table now records (lost, or never written by an older glance-db).
  if (!opts.dryRun && (await ensureGlanceBookkeeping(ctx, driver, await driver.readHistory())))
    j.findings.push('alembic_version set to what glance-manage expects at the recorded level');
  return { dryRun: opts.dryRun, schemaMatches: j.schemaMatches, recorded: j.current, actions, findings: j.findings };
}

/** What glance-manage did recorded as adopted, with what its contract left dropped. */
async function repairHandback(
  ctx: RunContext,
  driver: Driver,
  rows: VersionRow[],
  handback: Handback,
  dryRun: boolean,
): Promise<RepairResult> {
  const statements = handbackStatements(ctx, handback);
  const actions: RepairAction[] = handback.rows.map((r, i) => ({
    version: r.version,
    text: `record version ${r.version} as adopted (glance-manage ran it; nothing is run)`,
    sql: statements[2 * i + 1].sql,
    params: statements[2 * i + 1].params,
  }));
  // glance-db's visibility triggers left on a dropped is_public (PostgreSQL): dropped with the record.
  for (const sql of handback.dropOrphans)
    actions.push({
      version: handback.version,
      text: `drop what glance-manage's contract left: ${sql}`,
      sql,
      params: [],
    });
  if (!dryRun) {
    if (!(await recordHandback(ctx, driver, handback, rows))) throw historyMovedError(ctx, 'repair');
    await ensureGlanceBookkeeping(ctx, driver, await driver.readHistory());
  }
  const findings = [`recorded level: ${summarize(rows).current ?? 'none'}; ${handback.what}`];
  return {
    dryRun,
    schemaMatches: [handback.version],
    recorded: summarize(rows).current,
    actions,
    findings,
  };
}

/** Versions the manifest does not list, and a rolling upgrade under way: nothing repair can judge. */
function refuseUnjudgeable(ctx: RunContext, rows: VersionRow[]): void {
  const known = new Map(ctx.manifest.migrations.map((m) => [m.version, m]));
  const unknown = rows.filter((r) => !known.has(r.version));
  if (unknown.length > 0) {
    throw new UnknownVersionError(
      `The version table records version(s) ${unknown.map((r) => r.version).join(', ')}, which ${ctx.manifest.path} does not list: repair cannot judge them. Nothing was changed.`,
      'Pass the manifest that lists them with --config (a version your site added?), or use the glance-db release that recorded them.',
    );
  }
  // Between two schemas by design: nothing here to judge against one version's.
  const rolling = rollingState(ctx.manifest, rows);
  if (rolling.underWay) {
    throw new RepairRefusedError(
      `A rolling upgrade is under way (${describeRolling(rolling)}): the schema is between versions by design, so repair cannot judge it against one.`,
      `Finish the rolling upgrade first: ${nextCommand(ctx, rolling)}, or ${suggest(ctx, 'sync')}, which runs the phases left; glance-db history shows each version's phase.`,
    );
  }
}

/** The live schema judged against every known version, and what a repair of this database works with. */
interface Judged {
  ctx: RunContext;
  driver: Driver;
  rows: VersionRow[];
  files: Map<number, ReadVersion>;
  live: SchemaModel;
  /** The version table's own tables, left out of every comparison. */
  ignoreTables: string[];
  schemaMatches: number[];
  current: number | null;
  /** The live schema is that of the recorded level. */
  atCurrent: boolean;
  findings: string[];
  /** The refusal for a state that needs the schema at a level it is not at. */
  refuse(message: string, hint: string): RepairRefusedError;
  /** The way back the refusals suggest. */
  restore: string;
}

async function judge(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<Judged> {
  const files = readVersions(ctx.manifest, driver.dialect, Math.max(...rows.map((r) => r.version)));
  const live = await introspect(driver);
  const ignore = { ignoreTables: bookkeepingTables(ctx.manifest.versionTable) };
  const diffAt = (v: number): string[] | null => {
    const expected = expectedSchema(ctx.manifest, driver.dialect, v);
    return expected ? diffSchemas(expected, live, ignore) : null;
  };
  // A version matches when the only differences are a known Glance variant or ones accepted with --accept-drift (as check and verify judge).
  const matchesAt = (v: number): boolean => {
    const diff = diffAt(v);
    return (
      diff !== null && (diff.length === 0 || classify(ctx.rules, driver.dialect, diff, rows).unexplained.length === 0)
    );
  };
  const schemaMatches = ctx.manifest.migrations.map((m) => m.version).filter(matchesAt);
  const { current } = summarize(rows);
  const where = schemaMatches.length
    ? `the live schema is exactly that of version ${schemaMatches.join(' and ')}`
    : 'the live schema matches no known version';
  const refuse = (message: string, hint: string) => {
    const diff = current !== null ? diffAt(current) : null;
    return new RepairRefusedError(
      `${message} ${where}${diff && diff.length ? ` (against version ${current}: ${diff.slice(0, 10).join('; ')}${diff.length > 10 ? '; ...' : ''})` : ''}.`,
      hint,
      { schemaMatches, recorded: current },
    );
  };
  return {
    ctx,
    driver,
    rows,
    files,
    live,
    ignoreTables: ignore.ignoreTables,
    schemaMatches,
    current,
    atCurrent: current !== null && schemaMatches.includes(current),
    findings: [`recorded level: ${current ?? 'none'}; ${where}`],
    refuse,
    restore: `Restore the backup taken before the upgrade (${suggest(ctx, 'downgrade')} prints the steps), or bring the schema back by hand; glance-db history shows the rows.`,
  };
}

/** Changed checksums: re-recorded only with --accept-checksum VERSION, and only at the recorded level's schema. */
function checksumActions(j: Judged, acceptChecksum: number | undefined): RepairAction[] {
  const { ctx, driver, rows, current, findings } = j;
  const actions: RepairAction[] = [];
  for (const r of rows.filter((x) => x.status === 'complete')) {
    const now = j.files.get(r.version)!;
    if (
      now.loaded.checksum === r.checksum ||
      isSuperseded(ctx.manifest, { version: r.version, dialect: driver.dialect }, r.checksum, now.loaded.checksum)
    )
      continue;
    findings.push(
      `version ${r.version}: ${now.loaded.file} was recorded with ${r.checksum}, the file now has ${now.loaded.checksum}`,
    );
    if (r.statementHashes) findings.push(statementsChanged(r.statementHashes, now));
    if (acceptChecksum !== r.version)
      throw new ChecksumMismatchError(r.version, now.loaded.file, r.checksum, now.loaded.checksum);
    if (!j.atCurrent)
      throw j.refuse(
        `--accept-checksum ${r.version}: the schema must be exactly that of the recorded level ${current} to accept a changed file, and`,
        j.restore,
      );
    findings.push(
      `  the live schema is exactly that of the recorded level ${current}: the database does not depend on the change`,
    );
    actions.push({
      version: r.version,
      text: `re-record the checksum of version ${r.version} as ${now.loaded.checksum}`,
      sql: `UPDATE ${ctx.manifest.versionTable} SET checksum = ? WHERE version = ?`,
      params: [now.loaded.checksum, r.version],
    });
  }
  if (acceptChecksum !== undefined && !actions.some((a) => a.version === acceptChecksum)) {
    throw new UsageError(
      `--accept-checksum ${acceptChecksum}: version ${acceptChecksum} has no changed checksum${rows.some((r) => r.version === acceptChecksum) ? '' : ' (it is not recorded)'}. Nothing was changed.`,
      'Drop --accept-checksum; glance-db history shows each file against its recorded checksum.',
    );
  }
  return actions;
}

/** Which statements changed since they ran, by their recorded hashes. */
function statementsChanged(hashes: string[], now: ReadVersion): string {
  const changed = hashes
    .map((h, i) => (now.statements[i] && statementHash(now.statements[i].text) === h ? null : i + 1))
    .filter((x) => x !== null);
  const added = now.statements.length - hashes.length;
  return `  statements changed since they ran: ${changed.length ? changed.join(', ') : 'none'}${added > 0 ? `; ${added} statement(s) added` : added < 0 ? `; ${-added} statement(s) removed` : ''}`;
}

/** Gaps below the recorded level: re-recorded as baseline only when the schema is that of the recorded level. */
async function gapActions(j: Judged): Promise<RepairAction[]> {
  const { ctx, driver } = j;
  const gaps = await historyGaps(ctx.manifest, driver, j.rows, ctx.rules);
  if (gaps.length === 0) return [];
  if (!j.atCurrent)
    throw j.refuse(
      `The version table has no row for version(s) ${gaps.join(', ')} below its recorded level ${j.current}, and`,
      j.restore,
    );
  return gaps.map((v) => {
    const { loaded, statements } = j.files.get(v)!;
    const mig = ctx.manifest.migrations.find((m) => m.version === v)!;
    const row = newVersionRow(ctx, {
      version: v,
      name: mig.name,
      dialect: driver.dialect,
      checksum: loaded.checksum,
      kind: 'baseline',
      statementsTotal: statements.length,
    });
    return {
      version: v,
      text: `record version ${v} as baseline (the schema shows it ran; nothing is run)`,
      sql: insertSql(ctx.manifest.versionTable, () => '?'),
      params: rowValues(row),
    };
  });
}

/** Failed or partly applied rows: removed only at the schema below them and when nothing with a schema effect ran. */
function partialRowActions(j: Judged): RepairAction[] {
  const { ctx } = j;
  const table = ctx.manifest.versionTable;
  return j.rows
    .filter((x) => x.status !== 'complete')
    .map((r) => {
      const below =
        ctx.manifest.migrations
          .map((m) => m.version)
          .filter((v) => v < r.version)
          .pop() ?? null;
      const schemaBelow =
        below === null
          ? Object.keys(j.live.tables).filter((t) => !j.ignoreTables.includes(t)).length === 0
          : j.schemaMatches.includes(below);
      const noSchemaEffect =
        r.statementsApplied === 0 || ctx.manifest.migrations.some((m) => m.version === r.version && isDataOnly(m));
      if (schemaBelow && noSchemaEffect) {
        return {
          version: r.version,
          text: `remove the ${r.statementsApplied > 0 ? 'partly applied' : 'failed'} row of version ${r.version} (the schema is that of ${below ?? 'an empty database'}; sync runs ${r.version} again from its start)`,
          sql: `DELETE FROM ${table} WHERE version = ? AND status <> 'complete'`,
          params: [r.version],
        };
      }
      if (schemaBelow) {
        throw j.refuse(
          `Version ${r.version} is recorded as partly applied (${r.statementsApplied} statements ran) although`,
          `Check what ran by hand (glance-db history shows the error); ${j.restore}`,
        );
      }
      throw j.refuse(
        `Version ${r.version} is partly applied (${r.statementsApplied} of ${r.statementsTotal} statements ran), and`,
        `That is for sync, not repair: fix the cause (glance-db history shows the error), then run ${suggest(ctx, 'sync')}; it resumes at statement ${r.statementsApplied + 1}.`,
      );
    });
}
