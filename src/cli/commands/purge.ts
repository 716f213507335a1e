import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import type { RunContext } from '../context.js';
import { purge, type PurgeResult } from '../../app/purge.js';
import { UsageError } from '../../platform/errors.js';
import { writeErr } from '../../platform/sink.js';

const MAX_INT = 2 ** 31 - 1;

/**
 * The flags are read as text and checked in run(): an error thrown while
 * oclif parses a flag reaches the user wrapped in oclif's own lines.
 */
export const ageFlag = (dflt: number, manage = false) =>
  Flags.string({
    aliases: [manage ? 'age-in-days' : 'age_in_days'],
    description: 'Purge rows soft-deleted more than this many days ago.',
    default: String(dflt),
  });

/** Rows per transaction; glance-db purge's --max-rows was this flag's name before 0.2 and still is. */
export const batchSizeFlag = Flags.string({
  description:
    'Rows per batch (one transaction each); -1 deletes each table in one transaction. Batches go on until every row old enough is deleted, or the per-table limit is reached.',
  default: '100',
});

/** glance-db purge: the old name of --batch-size, kept working (with a note). */
export const oldMaxRowsFlag = Flags.string({
  description:
    "Old name of --batch-size (rows per transaction), kept working. For glance-manage's --max_rows (at most N rows per table per run) use --table-limit, or --max_rows as glance-manage spells it.",
});

/** glance-db purge: glance-manage's --max_rows under a glance-db name; --max_rows (glance-manage's spelling) is the same flag. */
export const tableLimitFlag = Flags.string({
  aliases: ['max_rows'],
  description:
    "Delete at most this many rows per table in this run, the oldest first (glance-manage's --max_rows); -1 or left out: every row old enough.",
});

/** The glance-manage forms (db purge, db purge_images_table): --max_rows as glance-manage reads it, default 100. */
export const manageMaxRowsFlag = Flags.string({
  aliases: ['max-rows'],
  description:
    'As glance-manage: delete at most this many rows per table in this run, the oldest first; -1: every row old enough.',
  default: '100',
});

/** --age-in-days: a whole number of days, 0 up to the days since 1970 (as glance-manage checks). */
export function parseAge(input: string, name = '--age-in-days'): number {
  const days = Math.floor(Date.now() / 86_400_000);
  if (!/^\d{1,9}$/.test(input.trim()))
    throw new UsageError(
      `${name} must be a whole number of days, 0 or more, not "${input}".`,
      `For example ${name} 30.`,
    );
  const n = Number(input.trim());
  if (n >= days) throw new UsageError(`${name} ${n} reaches back before 1970; at most ${days - 1}.`);
  return n;
}

/** --batch-size: rows per batch, 1 to 2^31-1; -1 deletes each table in one transaction. */
export function parseBatchSize(input: string, name = '--batch-size'): number {
  const t = input.trim();
  if (t === '-1') return -1;
  if (!/^\d{1,10}$/.test(t) || Number(t) < 1 || Number(t) > MAX_INT)
    throw new UsageError(
      `${name} must be a whole number from 1 to ${MAX_INT} (or -1 for one transaction per table), not "${input}".`,
      `For example ${name} 1000.`,
    );
  return Number(t);
}

/**
 * glance-manage's --max_rows (glance/cmd/manage.py _purge, glance/db/sqlalchemy/api.py
 * _validate_db_int): a whole number from -1 to 2^31-1; -1 is no limit (null),
 * 0 deletes nothing, N at most N rows per table in this run.
 */
export function parseTableLimit(input: string, name = '--max_rows'): number | null {
  const t = input.trim();
  if (!/^-?\d{1,10}$/.test(t))
    throw new UsageError(
      `${name} must be a whole number (rows per table in this run; -1 for no limit), not "${input}".`,
      `For example ${name} 100.`,
    );
  const n = Number(t);
  if (n < -1)
    throw new UsageError(
      `${name} ${n}: the smallest limit is -1 (no limit), as glance-manage says ("Minimal rows limit is -1").`,
    );
  if (n > MAX_INT)
    throw new UsageError(`${name} ${n} is out of range: it must not exceed ${MAX_INT}, as glance-manage checks.`);
  return n === -1 ? null : n;
}

export const dryRunFlag = Flags.boolean({
  description: 'Count the rows a run would delete, and change nothing.',
  default: false,
});

export interface PurgeFlags {
  ageInDays: number;
  batchSize: number;
  tableLimit: number | null;
  dryRun: boolean;
}

/** glance-db's own purge and purge-images: --batch-size (old name --max-rows), --table-limit (--max_rows). */
export function ownPurgeFlags(
  flags: {
    'age-in-days': string;
    'batch-size': string;
    'max-rows'?: string;
    'table-limit'?: string;
    'dry-run': boolean;
  },
  note: (text: string) => void,
  command: string,
): PurgeFlags {
  let batchSize = parseBatchSize(flags['batch-size']);
  if (flags['max-rows'] !== undefined) {
    batchSize = parseBatchSize(flags['max-rows'], '--max-rows');
    note(
      `note: ${command} --max-rows is the old name of --batch-size (rows per transaction; the run still deletes every row old enough). For glance-manage's --max_rows, at most N rows per table per run, use --table-limit N (or --max_rows N, or glance-db db purge).`,
    );
  }
  return {
    ageInDays: parseAge(flags['age-in-days']),
    batchSize,
    tableLimit: flags['table-limit'] === undefined ? null : parseTableLimit(flags['table-limit'], '--table-limit'),
    dryRun: flags['dry-run'],
  };
}

/** The glance-manage forms: --age_in_days, --max_rows as glance-manage reads them. */
export function managePurgeFlags(flags: {
  age_in_days: string;
  max_rows: string;
  'batch-size': string;
  'dry-run': boolean;
}): PurgeFlags {
  return {
    ageInDays: parseAge(flags.age_in_days, '--age_in_days'),
    batchSize: parseBatchSize(flags['batch-size']),
    tableLimit: parseTableLimit(flags.max_rows),
    dryRun: flags['dry-run'],
  };
}

export abstract class PurgeCommand extends BaseCommand {
  protected async purgeRun(ctx: () => RunContext, images: boolean, f: PurgeFlags): Promise<void> {
    return this.purgeWith(ctx(), { ...f, images });
  }

  /** A line on stderr (never in --json's stdout). */
  protected note(text: string): void {
    writeErr(`${text}\n`);
  }

  private async purgeWith(ctx: RunContext, opts: PurgeFlags & { images: boolean }): Promise<void> {
    const r = await purge(ctx, opts, (p) => {
      if (!this.jsonMode) writeErr(`${p.table}: batch ${p.batch}, ${p.rows} row(s) deleted (${p.total} so far)\n`);
    });
    this.report(ctx, opts, r);
  }

  private report(ctx: RunContext, opts: PurgeFlags, r: PurgeResult): void {
    const total = r.tables.reduce((a, t) => a + t.rows, 0);
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        ageInDays: opts.ageInDays,
        batchSize: opts.batchSize,
        tableLimit: opts.tableLimit,
        cutoff: r.cutoff,
        dryRun: r.dryRun,
        tables: r.tables,
        total,
      });
      return;
    }
    const verb = r.dryRun ? 'would be deleted' : 'deleted';
    for (const t of r.tables) {
      const held = t.held
        ? `; ${t.held} more kept: rows in image_properties, image_tags, image_locations or image_members still refer to them${heldWhy(t.held, t.heldForPurge ?? 0, opts.ageInDays)}`
        : '';
      const limit = t.limitReached
        ? `; limit of ${opts.tableLimit} row(s) per table reached, more rows old enough are left for the next run`
        : '';
      this.out(`${t.table}: ${t.rows} row(s) ${verb}${r.dryRun ? '' : ` in ${t.batches} batch(es)`}${limit}${held}`);
    }
    this.out(`${r.dryRun ? 'dry run: ' : ''}${total} row(s) ${verb}, soft-deleted before ${r.cutoff.slice(0, 19)} UTC`);
  }
}

/** What keeps the held images, truthfully: child rows purge removes (same age), or rows that are live or deleted since, which are not purge's. */
function heldWhy(held: number, forPurge: number, age: number): string {
  const parts: string[] = [];
  if (forPurge > 0)
    parts.push(
      `${forPurge} only by rows soft-deleted more than ${age} days ago, which glance-db purge --age-in-days ${age} removes first`,
    );
  if (held > forPurge)
    parts.push(
      `${held - forPurge} by rows that are live or were deleted less than ${age} days ago: not purge's to remove, those images stay until Glance deletes the rows and they are old enough`,
    );
  return ` (${parts.join('; ')})`;
}

export const PURGE_TABLES_TEXT =
  'task_info of such tasks, image_properties, image_tags, image_locations, image_members, then tasks (children before parents)';

export default class Purge extends PurgeCommand {
  static description =
    `Delete soft-deleted rows (deleted = true, deleted_at older than --age-in-days) from every Glance table except images: ${PURGE_TABLES_TEXT}, ` +
    "in batches of --batch-size rows, one transaction per batch, until none is left (with --table-limit N: at most N rows per table in this run, the oldest first, as glance-manage's --max_rows). " +
    "Progress on stderr, a count per table at the end. Safe to interrupt and run again. Works at any version from 42, on a database glance-db or glance-manage manages, and changes neither's bookkeeping. " +
    "images: see purge-images. glance-manage's form: db purge.";
  static examples = [
    'glance-db purge --age-in-days 30 --batch-size 1000',
    'glance-db purge --dry-run',
    'glance-db purge --age-in-days 30 --table-limit 100',
  ];
  static flags = {
    'age-in-days': ageFlag(30),
    'batch-size': batchSizeFlag,
    'max-rows': oldMaxRowsFlag,
    'table-limit': tableLimitFlag,
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Purge);
    await this.purgeRun(
      () => this.context(flags),
      false,
      ownPurgeFlags(flags, (t) => this.note(t), 'purge'),
    );
  }
}
