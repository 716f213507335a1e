import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { UsageError } from '../../../platform/errors.js';
import { diffMetadefs } from '../../../app/metadefs.js';
import { planLines, summary } from '../../../glance/metadefs/report.js';
import { pathArg, pathFlag, pathOf } from './load.js';

const WOULD = { added: 'would add', updated: 'would update', unchanged: 'unchanged', skipped: 'would skip' } as const;

export default class MetadefsDiff extends BaseCommand {
  static aliases = ['db:metadefs:diff'];
  static description =
    'Show what `metadefs load --merge` would change, namespace by namespace and item by item, without changing anything: for review before an upgrade. ' +
    'With --prefer-new or --overwrite, what that load would change. Items that differ but a plain --merge keeps, and items only in the database, are listed too.';
  static examples = [
    'glance-db metadefs diff',
    'glance-db metadefs diff /usr/share/glance/metadefs --prefer-new --json',
  ];
  static args = { path: pathArg('A folder of namespace .json files, or one file') };
  static flags = {
    'prefer-new': Flags.boolean({
      aliases: ['prefer_new'],
      description: 'Show what load --merge --prefer-new would change.',
      default: false,
    }),
    overwrite: Flags.boolean({ description: 'Show what load --merge --overwrite would change.', default: false }),
    path: pathFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MetadefsDiff);
    if (flags['prefer-new'] && flags.overwrite)
      throw new UsageError('Give at most one of --prefer-new and --overwrite.');
    const path = pathOf(args.path, flags.path, flags['glance-config']);
    const ctx = this.context(flags);
    const plans = await diffMetadefs(ctx, path, { preferNew: flags['prefer-new'], overwrite: flags.overwrite });
    const sum = summary(plans);
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        path,
        merge: true,
        preferNew: flags['prefer-new'],
        overwrite: flags.overwrite,
        summary: sum,
        namespaces: plans,
      });
      return;
    }
    for (const p of plans) for (const l of planLines(p, (s) => WOULD[s])) this.out(l);
    this.out(`metadefs diff: ${sum.added} to add, ${sum.updated} to update, ${sum.unchanged} unchanged`);
  }
}
