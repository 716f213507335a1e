// purge and purge-images: delete soft-deleted rows (deleted = true and
// deleted_at older than N days) in batches of M rows, one transaction per
// batch, children before parents, so that an interrupted run leaves a
// consistent database and the next run simply continues. Glance's own
// purge_deleted_rows deletes at most --max_rows rows per table (the oldest
// deleted_at first) and stops; with a table limit (the glance-manage forms'
// --max_rows, glance-db purge --table-limit) a run does the same, in
// batches; the tables and
// their order are Glance's: task_info of purged tasks first, then the image
// child tables, then tasks. images only with purge-images (OSSN-0075: a
// purged image row lets its ID be used again).
import { periodicWriteBack } from '../core/write-back.js';
import type { Dialect } from '../dialects/index.js';
import type { Driver, Tx } from '../core/driver/driver.js';
import { DataFailedError, GlanceDbError } from '../platform/errors.js';
import { sqlFor } from '../glance/metadefs/store.js';
import type { RunContext } from '../core/run-context.js';
import { createDriver } from '../dialects/create-driver.js';
import { withDataDatabase } from '../glance/require-latest.js';

export interface PurgeOptions {
  ageInDays: number;
  /** Rows per batch (one transaction each); -1 deletes each table in one transaction. */
  batchSize: number;
  /**
   * glance-manage's --max_rows: at most this many rows per table in this
   * run, the oldest deleted_at first (0: none); null (or glance-manage's -1):
   * every row old enough.
   */
  tableLimit: number | null;
  dryRun: boolean;
  /** purge-images: the images table only. */
  images: boolean;
}

export interface TableResult {
  table: string;
  /** Rows deleted, or with --dry-run the rows a run would delete. */
  rows: number;
  batches: number;
  /** The run stopped at the table limit (--max_rows) for this table: rows old enough may be left for the next run. */
  limitReached?: boolean;
  /** images only: soft-deleted rows old enough but still referenced by child rows. */
  held?: number;
  /**
   * images only: of held, those whose child rows are all soft-deleted before
   * the cutoff, so that `purge` with the same age removes them and frees the
   * image; the others have a live (or more recently deleted) child row, which
   * is not purge's to remove.
   */
  heldForPurge?: number;
}

export interface PurgeResult {
  cutoff: string;
  dryRun: boolean;
  tables: TableResult[];
}

export type PurgeProgress = { table: string; batch: number; rows: number; total: number };

interface PurgeTable {
  table: string;
  /** The primary key: batches walk it in order, so a whole run reads each table once. */
  key: string;
  /** Which rows go, on the bare table name; one placeholder, the cutoff. */
  cond: string;
  /** For --dry-run, when a condition of cond only holds after an earlier table is purged. */
  countCond?: string;
  /** images: the same rows without the "no child rows left" condition. */
  heldCond?: string;
  /** images: the held rows whose child rows purge would all remove (every child row old and soft-deleted). */
  heldForPurgeCond?: string;
}

const old = (t: string) => `${t}.deleted = TRUE AND ${t}.deleted_at < ?`;
const IMAGE_CHILDREN = ['image_properties', 'image_tags', 'image_locations', 'image_members'];

/** Children before parents. */
export const PURGE_TABLES: PurgeTable[] = [
  // task_info has no deleted column: its rows go with their soft-deleted task.
  { table: 'task_info', key: 'task_id', cond: `task_info.task_id IN (SELECT t.id FROM tasks t WHERE ${old('t')})` },
  ...IMAGE_CHILDREN.map((table) => ({ table, key: 'id', cond: old(table) })),
  {
    table: 'tasks',
    key: 'id',
    cond: `${old('tasks')} AND NOT EXISTS (SELECT 1 FROM task_info ti WHERE ti.task_id = tasks.id)`,
    // task_info of those tasks goes first, in the same run.
    countCond: old('tasks'),
  },
];

export const PURGE_IMAGES: PurgeTable = {
  table: 'images',
  key: 'id',
  cond: `${old('images')}${IMAGE_CHILDREN.map((c) => ` AND NOT EXISTS (SELECT 1 FROM ${c} c WHERE c.image_id = images.id)`).join('')}`,
  heldCond: old('images'),
  // Counts, not NOT EXISTS: a child row with a NULL deleted or deleted_at is not purge's either.
  heldForPurgeCond:
    `${old('images')} AND (${IMAGE_CHILDREN.map((c) => `EXISTS (SELECT 1 FROM ${c} c WHERE c.image_id = images.id)`).join(' OR ')})` +
    IMAGE_CHILDREN.map(
      (c) =>
        ` AND (SELECT COUNT(*) FROM ${c} c WHERE c.image_id = images.id) = (SELECT COUNT(*) FROM ${c} c WHERE c.image_id = images.id AND ${old('c')})`,
    ).join(''),
};

/** The cutoff in the form every dialect compares with Glance's naive UTC timestamps (SQLite: as text). */
export function cutoffFor(ageInDays: number, now = Date.now()): string {
  return new Date(now - ageInDays * 86_400_000).toISOString().replace('T', ' ').replace('Z', '000');
}

export async function purge(
  ctx: RunContext,
  opts: PurgeOptions,
  progress: (p: PurgeProgress) => void,
): Promise<PurgeResult> {
  const command = opts.images ? 'purge-images' : 'purge';
  const cutoff = cutoffFor(opts.ageInDays);
  const tables = opts.images ? [PURGE_IMAGES] : PURGE_TABLES;
  return withDataDatabase(
    ctx,
    await createDriver(ctx.driverConfig()),
    command,
    'purge',
    !opts.dryRun,
    async (driver) => {
      if (opts.dryRun) return { cutoff, dryRun: true, tables: await dryRunTables(driver, tables, opts, cutoff) };
      // The readiness checks above ran once, but on PostgreSQL the migration lock is taken per transaction (each
      // batch), and glance-manage takes no lock at all: a sync, an expand or glance-manage's db expand could run
      // between two batches and open a rolling window purge must not race. Each batch first reads the bookkeeping
      // again, under the lock, and stops the run if it changed.
      const watch = await bookkeepingWatch(driver, ctx.manifest.versionTable);
      // SQLite: the file is written back at the end, and every few seconds meanwhile.
      const writeBack = periodicWriteBack(driver);
      const run: TableRun = { opts, cutoff, command, watch, writeBack, progress };
      const results: TableResult[] = [];
      try {
        for (const t of tables) results.push(await purgeTable(driver, t, run));
      } finally {
        await driver.flush();
      }
      return { cutoff, dryRun: false, tables: results };
    },
  );
}

/** --dry-run: the rows a run would delete, table by table (and the images it would hold). */
async function dryRunTables(
  driver: Driver,
  tables: PurgeTable[],
  opts: PurgeOptions,
  cutoff: string,
): Promise<TableResult[]> {
  const results: TableResult[] = [];
  for (const t of tables) {
    const all = await countIn(driver, t.table, t.countCond ?? t.cond, cutoff);
    const n = opts.tableLimit === null ? all : Math.min(all, opts.tableLimit);
    results.push({
      table: t.table,
      rows: n,
      batches: 0,
      ...(opts.tableLimit !== null && all > n ? { limitReached: true } : {}),
      ...(t.heldCond ? await heldOf(driver, t, cutoff, n) : {}),
    });
  }
  return results;
}

/** What every table of a run shares. */
interface TableRun {
  opts: PurgeOptions;
  cutoff: string;
  command: string;
  watch: { start: string; read: (tx: Tx) => Promise<string> };
  writeBack: () => Promise<void>;
  progress: (p: PurgeProgress) => void;
}

/** Where a table's batches are: rows deleted so far, the last key deleted, and whether the table is done. */
interface TableProgress {
  total: number;
  last: unknown;
  done: boolean;
}

/** One table, batch after batch, each its own transaction that first checks the bookkeeping did not change. */
async function purgeTable(driver: Driver, t: PurgeTable, run: TableRun): Promise<TableResult> {
  const { opts, cutoff, command } = run;
  const at: TableProgress = { total: 0, last: null, done: opts.tableLimit === 0 };
  let batch = 0;
  while (!at.done) {
    let n: number;
    try {
      n = await driver.transaction(
        async (tx) => {
          if ((await run.watch.read(tx)) !== run.watch.start) throw new BookkeepingChanged();
          return deleteBatch(driver.dialect, tx, t, opts, cutoff, at);
        },
        { deferWriteBack: true },
      );
    } catch (err) {
      if (err instanceof BookkeepingChanged) throw changedUnder(command, t.table, batch + 1, at.total);
      throw failed(driver.dialect, t.table, batch + 1, at.total, err);
    }
    if (n === 0) continue;
    batch++;
    at.total += n;
    run.progress({ table: t.table, batch, rows: n, total: at.total });
    await run.writeBack();
  }
  const limitReached =
    opts.tableLimit !== null && at.total >= opts.tableLimit && (await countIn(driver, t.table, t.cond, cutoff)) > 0;
  return {
    table: t.table,
    rows: at.total,
    batches: batch,
    ...(limitReached ? { limitReached } : {}),
    ...(t.heldCond ? await heldOf(driver, t, cutoff, 0) : {}),
  };
}

/**
 * One batch's DELETE: under a table limit (glance-manage's --max_rows) the
 * oldest rows first, at most the limit in this run; else the next rows by
 * key; with --batch-size -1 the whole table at once. Moves `at` on.
 */
async function deleteBatch(
  dialect: Dialect,
  tx: Tx,
  t: PurgeTable,
  opts: PurgeOptions,
  cutoff: string,
  at: TableProgress,
): Promise<number> {
  if (opts.tableLimit !== null) {
    const left = opts.tableLimit - at.total;
    const size = opts.batchSize === -1 ? left : Math.min(opts.batchSize, left);
    const r = await runOldestBatch(dialect, tx, t, cutoff, size);
    at.done = r.found < size || at.total + r.deleted >= opts.tableLimit;
    return r.deleted;
  }
  if (opts.batchSize !== -1)
    return runBatch(dialect, tx, t, cutoff, opts.batchSize, at.last, (k) => ((at.last = k), (at.done = k === DONE)));
  at.done = true;
  return tx.run(sqlFor(dialect, `DELETE FROM ${t.table} WHERE ${t.cond}`), [cutoff]);
}

const DONE = Symbol('done');

class BookkeepingChanged extends Error {}

/** The version rows (glance-db's, Alembic's, the legacy migrate_version) as text, read inside a batch's transaction. */
async function bookkeepingWatch(
  driver: Driver,
  versionTable: string,
): Promise<{ start: string; read: (tx: Tx) => Promise<string> }> {
  const tables = new Set(await driver.listTables());
  const queries = [
    tables.has(versionTable) ? `SELECT * FROM ${versionTable} ORDER BY version` : null,
    tables.has('alembic_version') ? 'SELECT version_num FROM alembic_version ORDER BY version_num' : null,
    tables.has('migrate_version') ? 'SELECT version FROM migrate_version' : null,
  ].filter((q): q is string => q !== null);
  const read = async (q: (text: string) => Promise<Record<string, unknown>[]>) =>
    JSON.stringify(await Promise.all(queries.map((text) => q(text))), (_, v) =>
      typeof v === 'bigint' ? String(v) : v,
    );
  return { start: await read((text) => driver.query(text)), read: (tx) => read((text) => tx.query(text)) };
}

function changedUnder(command: string, table: string, batch: number, before: number): GlanceDbError {
  return new GlanceDbError(
    'UPGRADE_PENDING',
    `${command} stopped before batch ${batch} of ${table}: the database's version bookkeeping changed while it ran (another glance-db run or glance-manage between two batches), and a migrate could now race the purge. The ${before} row(s) of ${table} deleted before, and the tables before it, stay purged; the rest of this run was not done.`,
    {
      hint: `Run glance-db check to see the new state; once no rolling upgrade is open, run ${command} again: it continues where this run stopped.`,
      fields: { table, batch },
    },
  );
}

async function countIn(driver: Driver, table: string, cond: string, cutoff: string): Promise<number> {
  // Every placeholder of a condition is the cutoff.
  const params = Array<string>(cond.split('?').length - 1).fill(cutoff);
  return Number(
    (await driver.query(sqlFor(driver.dialect, `SELECT COUNT(*) AS n FROM ${table} WHERE ${cond}`), params))[0].n,
  );
}

/** The old rows kept because child rows refer to them (less the purgeable ones counted as going), and how many of those purge would free. */
async function heldOf(
  driver: Driver,
  t: PurgeTable,
  cutoff: string,
  going: number,
): Promise<{ held: number; heldForPurge: number }> {
  const held = (await countIn(driver, t.table, t.heldCond!, cutoff)) - going;
  return { held, heldForPurge: held > 0 ? await countIn(driver, t.table, t.heldForPurgeCond!, cutoff) : 0 };
}

/**
 * One batch: the next maxRows purgeable keys after the last batch's (by
 * primary key, so the run reads each table once), then one ranged DELETE of
 * exactly those rows. Sets the last key, or DONE when fewer than maxRows
 * were left.
 */
async function runBatch(
  dialect: Dialect,
  tx: Tx,
  t: PurgeTable,
  cutoff: string,
  maxRows: number,
  last: unknown,
  setLast: (k: unknown) => void,
): Promise<number> {
  const q = (text: string) => sqlFor(dialect, text);
  const after = last === null ? '' : `${t.table}.${t.key} > ? AND `;
  const args = last === null ? [cutoff] : [last, cutoff];
  const found = (
    await tx.query(
      q(
        `SELECT MAX(k) AS last_key, COUNT(*) AS n FROM (SELECT ${t.table}.${t.key} AS k FROM ${t.table} WHERE ${after}${t.cond} ORDER BY ${t.table}.${t.key} LIMIT ${maxRows}) b`,
      ),
      args,
    )
  )[0];
  const n = Number(found.n);
  if (n === 0) {
    setLast(DONE);
    return 0;
  }
  const deleted = await tx.run(
    q(`DELETE FROM ${t.table} WHERE ${after}${t.table}.${t.key} <= ? AND ${t.cond}`),
    last === null ? [found.last_key, cutoff] : [last, found.last_key, cutoff],
  );
  setLast(n < maxRows ? DONE : found.last_key);
  return deleted;
}

/** Each table's rows in the order glance-manage purges them: the oldest deleted_at first (task_info: its task's). */
const OLDEST: Record<string, string> = {
  task_info: '(SELECT t.deleted_at FROM tasks t WHERE t.id = task_info.task_id)',
};

/** Keys per DELETE ... IN (...) statement. */
const IN_CHUNK = 500;

/**
 * One batch of a run with a table limit: the `size` oldest purgeable rows
 * (by deleted_at, then key), deleted by key in one transaction. Returns how
 * many were found and deleted.
 */
async function runOldestBatch(
  dialect: Dialect,
  tx: Tx,
  t: PurgeTable,
  cutoff: string,
  size: number,
): Promise<{ found: number; deleted: number }> {
  const q = (text: string) => sqlFor(dialect, text);
  const order = OLDEST[t.table] ?? `${t.table}.deleted_at`;
  const keys = (
    await tx.query(
      q(
        `SELECT ${t.table}.${t.key} AS k FROM ${t.table} WHERE ${t.cond} ORDER BY ${order}, ${t.table}.${t.key} LIMIT ${size}`,
      ),
      [cutoff],
    )
  ).map((r) => r.k);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += IN_CHUNK) {
    const part = keys.slice(i, i + IN_CHUNK);
    deleted += await tx.run(
      q(`DELETE FROM ${t.table} WHERE ${t.table}.${t.key} IN (${part.map(() => '?').join(', ')}) AND ${t.cond}`),
      [...part, cutoff],
    );
  }
  return { found: keys.length, deleted };
}

function failed(dialect: Dialect, table: string, batch: number, before: number, err: unknown): DataFailedError {
  if ((err as { exitCode?: number }).exitCode !== undefined) return err as DataFailedError;
  return new DataFailedError(
    `Purging ${table} failed in batch ${batch} (${dialect}): ${(err as Error).message}. That batch was rolled back; the ${before} row(s) of ${table} deleted before it, and the tables before it, stay purged.`,
    {
      cause: err,
      fields: { table, batch },
      hint: 'Fix the cause and run the same command again: it continues where this run stopped.',
    },
  );
}
