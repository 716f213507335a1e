import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { repair } from '../../app/repair.js';

export default class Repair extends BaseCommand {
  static aliases = ['db:repair'];
  static description =
    'The way out of a wrong version table, decided by the live schema: re-records rows missing below the recorded level, removes a failed or ' +
    "partly applied row when the schema shows nothing of it ran, and with --accept-checksum VERSION re-records a changed file's checksum after " +
    'printing what changed. Refuses, changing nothing, when the schema matches no known state (exit 24). --dry-run prints what it would do.';
  static examples = ['glance-db repair --dry-run', 'glance-db repair', 'glance-db repair --accept-checksum 46'];
  static flags = {
    'dry-run': Flags.boolean({ description: 'Print what repair would do, and change nothing.', default: false }),
    'accept-checksum': Flags.integer({
      description: "Re-record the checksum of this version's changed file (after printing what changed).",
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Repair);
    const ctx = this.context(flags);
    const r = await repair(ctx, { dryRun: flags['dry-run'], acceptChecksum: flags['accept-checksum'] });
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        dryRun: r.dryRun,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        recorded: r.recorded,
        schemaMatches: r.schemaMatches,
        findings: r.findings,
        actions: r.actions.map((a) => ({ version: a.version, action: a.text })),
      });
      return;
    }
    this.out(`database: ${ctx.target.display} (from ${ctx.urlSource})`);
    for (const f of r.findings) this.out(f);
    if (r.actions.length === 0) this.out('nothing to repair: the version table agrees with the database');
    for (const a of r.actions) this.out(`${r.dryRun ? 'would ' : ''}${a.text}${r.dryRun ? '' : ': done'}`);
    if (r.dryRun && r.actions.length > 0) this.out('dry run: nothing was changed');
  }
}
