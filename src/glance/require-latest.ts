// The data commands (metadefs, purge) work on tables whose shape has not
// changed since glance-db's baseline: the six metadef_* tables, and images,
// its child tables, tasks and task_info as far as purge reads them (id,
// image_id, task_id, deleted, deleted_at) are the same at 42 and at 51
// (schema/expected/<dialect>/vNN.json). So they run at any version from 42 on, on a
// database glance-db manages or one glance-manage still manages
// (alembic_version, migrate_version), and never take it over, upgrade it
// or write any bookkeeping: no glance-db version table is created,
// alembic_version is left as it is.
//
// They refuse only what is unsafe, each with its reason:
// - a version recorded as failed (MySQL: stopped part way): the tables may be half changed (14);
// - purge while a rolling upgrade is open (expanded, not yet contracted):
//   a migrate (glance-db's or glance-manage's, on any node) may run at any
//   time until the contract and rewrites rows of images and image_locations
//   that purge deletes (13);
// - metadefs while a rolling upgrade has 44's data step (metadef resource
//   type OS::Nova::Instance becomes OS::Nova::Server) still to migrate (13);
// - a version below the baseline or a revision glance-db does not know (11),
//   a database nothing manages (5), a table they work on missing (12).
import type { Driver } from '../core/driver/driver.js';
import {
  DataTablesMissingError,
  NotUnderVersionControlError,
  PartlyAppliedError,
  RollingWindowError,
} from '../platform/errors.js';
import { detectGlanceManaged, GLANCE_TABLES } from '../glance/detect.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { summarize } from '../core/history.js';
import { describeRolling, rollingState } from '../core/phases.js';

/** What a data command works on: the metadef tables, or the tables purge deletes from. */
export type DataUse = 'metadefs' | 'purge';

/** The versions whose data step rewrites metadef rows (44: OS::Nova::Instance becomes OS::Nova::Server). */
const METADEF_DATA_VERSIONS = [44];

export const METADEF_TABLE_NAMES = [
  'metadef_namespaces',
  'metadef_resource_types',
  'metadef_namespace_resource_types',
  'metadef_properties',
  'metadef_objects',
  'metadef_tags',
];
const PURGE_TABLE_NAMES = [...GLANCE_TABLES, 'tasks', 'task_info'];

export interface DataLevel {
  version: number;
  managedBy: 'glance-db' | 'glance-manage';
  /** glance_db_version, or Glance's own table and revision(s). */
  source: string;
}

/**
 * Opens the configured database (never creating it), takes the migration
 * lock when the command writes (MySQL: a lock table this run creates is
 * dropped again at close when there is no glance-db version table, so a
 * glance-manage database keeps no trace), checks the database is safe for
 * the command, and runs fn. The driver (made by the use case, src/app) is
 * closed (and the lock released) afterwards.
 */
export async function withDataDatabase<T>(
  ctx: RunContext,
  driver: Driver,
  command: string,
  use: DataUse,
  writes: boolean,
  fn: (driver: Driver, level: DataLevel) => Promise<T>,
): Promise<T> {
  try {
    await driver.open();
    if (!driver.exists()) throw notManaged(ctx, command);
    if (writes) await driver.lock();
    const level = await requireDataReady(ctx, driver, command, use);
    return await fn(driver, level);
  } finally {
    await driver.close();
  }
}

function notManaged(ctx: RunContext, command: string): NotUnderVersionControlError {
  return new NotUnderVersionControlError(
    ctx.target.display,
    `${command} works on a database glance-db or glance-manage manages (a glance-db version table, or Glance's alembic_version or migrate_version), at any version from the baseline on. ` +
      `A new database: run ${suggest(ctx, 'sync')} first. Glance's tables without either table: glance-db sync VERSION CURRENT_VERSION records which version it is at.`,
    ' Nor does glance-manage manage it.',
  );
}

/** Throws unless the database is safe for the command (see the top of this file); returns its level. */
export async function requireDataReady(
  ctx: RunContext,
  driver: Driver,
  command: string,
  use: DataUse,
): Promise<DataLevel> {
  const rows = await driver.readHistory();
  let level: DataLevel;
  if (rows.length > 0) {
    const failed = rows.find((r) => r.status === 'failed');
    if (failed) throw new PartlyAppliedError(failed.version, failed.statementsApplied, failed.statementsTotal, command);
    const rolling = rollingState(ctx.manifest, rows);
    if (rolling.underWay) {
      const state = describeRolling(rolling);
      if (use === 'purge') {
        throw new RollingWindowError(
          `${command} refuses while a rolling upgrade is open (${state}): until its contract, a data migration (glance-db migrate, or glance-manage db migrate on another node) may run at any time and rewrite rows of images and image_locations that purge would delete.`,
          `Finish the rolling upgrade first (${suggest(ctx, 'migrate')}, then ${suggest(ctx, 'contract')} once every glance-api runs the new release), then run ${command} again. The metadefs commands are not affected.`,
          { rolling: { to: rolling.top, next: rolling.next } },
        );
      }
      const metadefData = rolling.pending.migrate.filter((v) => METADEF_DATA_VERSIONS.includes(v));
      if (metadefData.length > 0) {
        throw new RollingWindowError(
          `${command} refuses while the data step of version ${metadefData.join(', ')} is still to migrate (${state}): it renames the metadef resource type OS::Nova::Instance to OS::Nova::Server, the rows ${command} works on.`,
          `Run ${suggest(ctx, 'migrate')} first, then ${command} again.`,
          { rolling: { to: rolling.top, next: rolling.next } },
        );
      }
    }
    const current = summarize(rows).current;
    if (current === null) throw notManaged(ctx, command);
    level = { version: current, managedBy: 'glance-db', source: ctx.manifest.versionTable };
  } else {
    const tables = await driver.listTables();
    // Below the baseline (migrate_version < 42) or a revision glance-db does not know: exit 11 from detect.
    const glance = await detectGlanceManaged(driver, tables);
    if (!glance) throw notManaged(ctx, command);
    if (use === 'purge' && glance.expandedTo !== null) {
      throw new RollingWindowError(
        `${command} refuses while glance-manage's rolling upgrade is open (${glance.source}: expanded to ${glance.expandedTo}, contracted to ${glance.version}): until its contract, glance-manage db migrate may run at any time and rewrite rows of images and image_locations that purge would delete.`,
        `Finish the rolling upgrade first (glance-manage db migrate, then glance-manage db contract once every glance-api runs the new release), then run ${command} again. The metadefs commands are not affected.`,
        { source: glance.source },
      );
    }
    level = { version: glance.version, managedBy: 'glance-manage', source: glance.source };
  }
  const have = new Set(await driver.listTables());
  const missing = (use === 'metadefs' ? METADEF_TABLE_NAMES : PURGE_TABLE_NAMES).filter((t) => !have.has(t));
  if (missing.length > 0) throw new DataTablesMissingError(missing, command, ctx.target.display);
  return level;
}
