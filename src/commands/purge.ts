import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import type { RunContext } from '../engine/context.js';
import { purge, type PurgeResult } from '../engine/purge.js';
import { UsageError } from '../errors.js';

const MAX_INT = 2 ** 31 - 1;

/**
 * The flags are read as text and checked in run(): an error thrown while
 * oclif parses a flag reaches the user wrapped in oclif's own lines.
 */
export const ageFlag = (dflt: number) =>
  Flags.string({ aliases: ['age_in_days'], description: 'Purge rows soft-deleted more than this many days ago.', default: String(dflt) });

export const maxRowsFlag = Flags.string({ aliases: ['max_rows'], description: 'Rows per batch (one transaction each); -1 deletes each table in one transaction.', default: '100' });

/** --age-in-days: a whole number of days, 0 up to the days since 1970 (as glance-manage checks). */
export function parseAge(input: string): number {
  const days = Math.floor(Date.now() / 86_400_000);
  if (!/^\d{1,9}$/.test(input.trim())) throw new UsageError(`--age-in-days must be a whole number of days, 0 or more, not "${input}".`, 'For example --age-in-days 30.');
  const n = Number(input.trim());
  if (n >= days) throw new UsageError(`--age-in-days ${n} reaches back before 1970; at most ${days - 1}.`);
  return n;
}

/** --max-rows: rows per batch, 1 to 2^31-1; -1 (glance-manage's "no limit") deletes each table in one transaction. */
export function parseMaxRows(input: string): number {
  const t = input.trim();
  if (t === '-1') return -1;
  if (!/^\d{1,10}$/.test(t) || Number(t) < 1 || Number(t) > MAX_INT) throw new UsageError(`--max-rows must be a whole number from 1 to ${MAX_INT} (or -1 for no batches), not "${input}".`, 'For example --max-rows 1000.');
  return Number(t);
}

export const dryRunFlag = Flags.boolean({ description: 'Count the rows a run would delete, and change nothing.', default: false });

export abstract class PurgeCommand extends BaseCommand {
  protected async purgeRun(ctx: () => RunContext, images: boolean, flags: { 'age-in-days': string; 'max-rows': string; 'dry-run': boolean }): Promise<void> {
    const opts = { ageInDays: parseAge(flags['age-in-days']), maxRows: parseMaxRows(flags['max-rows']), dryRun: flags['dry-run'], images };
    return this.purgeWith(ctx(), opts);
  }

  private async purgeWith(ctx: RunContext, opts: { ageInDays: number; maxRows: number; dryRun: boolean; images: boolean }): Promise<void> {
    const r = await purge(ctx, opts, (p) => {
      if (!this.jsonMode) process.stderr.write(`${p.table}: batch ${p.batch}, ${p.rows} row(s) deleted (${p.total} so far)\n`);
    });
    this.report(ctx, opts, r);
  }

  private report(ctx: RunContext, opts: { ageInDays: number; maxRows: number }, r: PurgeResult): void {
    const total = r.tables.reduce((a, t) => a + t.rows, 0);
    if (this.jsonMode) {
      this.emitJson({ ok: true, dialect: ctx.target.dialect, database: ctx.target.display, ageInDays: opts.ageInDays, maxRows: opts.maxRows, cutoff: r.cutoff, dryRun: r.dryRun, tables: r.tables, total });
      return;
    }
    const verb = r.dryRun ? 'would be deleted' : 'deleted';
    for (const t of r.tables) {
      const held = t.held ? `; ${t.held} more kept: rows in image_properties, image_tags, image_locations or image_members still refer to them${heldWhy(t.held, t.heldForPurge ?? 0, opts.ageInDays)}` : '';
      this.out(`${t.table}: ${t.rows} row(s) ${verb}${r.dryRun ? '' : ` in ${t.batches} batch(es)`}${held}`);
    }
    this.out(`${r.dryRun ? 'dry run: ' : ''}${total} row(s) ${verb}, soft-deleted before ${r.cutoff.slice(0, 19)} UTC`);
  }
}

/** What keeps the held images, truthfully: child rows purge removes (same age), or rows that are live or deleted since, which are not purge's. */
function heldWhy(held: number, forPurge: number, age: number): string {
  const parts: string[] = [];
  if (forPurge > 0) parts.push(`${forPurge} only by rows soft-deleted more than ${age} days ago, which glance-db purge --age-in-days ${age} removes first`);
  if (held > forPurge) parts.push(`${held - forPurge} by rows that are live or were deleted less than ${age} days ago: not purge's to remove, those images stay until Glance deletes the rows and they are old enough`);
  return ` (${parts.join('; ')})`;
}

export default class Purge extends PurgeCommand {
  static aliases = ['db:purge'];
  static description =
    'Delete soft-deleted rows (deleted = true, deleted_at older than --age-in-days) from every Glance table except images: task_info of such tasks, ' +
    'image_properties, image_tags, image_locations, image_members, then tasks (children before parents), in batches of --max-rows rows, one transaction per batch, ' +
    'until none is left. Progress on stderr, a count per table at the end. Safe to interrupt and run again. images: see purge-images.';
  static examples = ['glance-db purge --age-in-days 30 --max-rows 1000', 'glance-db purge --dry-run', 'glance-db db purge --age_in_days 90 --max_rows 500'];
  static flags = { 'age-in-days': ageFlag(30), 'max-rows': maxRowsFlag, 'dry-run': dryRunFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(Purge);
    await this.purgeRun(() => this.context(flags), false, flags);
  }
}
