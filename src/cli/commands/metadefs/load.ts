import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { UsageError } from '../../../platform/errors.js';
import { metadataSourcePath } from '../../../glance/config.js';
import { DEFAULT_METADEFS_PATH } from '../../../glance/metadefs/document.js';
import { loadMetadefs } from '../../../app/metadefs.js';
import { planLines, summary } from '../../../glance/metadefs/report.js';

export const pathArg = (what: string) =>
  Args.string({
    description: `${what} [default: Glance's [DEFAULT] metadata_source_path, else ${DEFAULT_METADEFS_PATH}].`,
  });
export const pathFlag = Flags.string({
  description: "glance-manage's spelling of the PATH argument.",
  helpGroup: 'GLANCE-MANAGE',
});

/**
 * The metadefs folder: PATH (or --path); with neither, as glance-manage, Glance's
 * [DEFAULT] metadata_source_path (src/glance/config.ts), else /etc/glance/metadefs.
 */
export function pathOf(arg: string | undefined, flag: string | undefined, glanceConfig?: string[]): string {
  if (arg && flag && arg !== flag)
    throw new UsageError(`Two paths given: ${arg} and --path ${flag}.`, 'Give the folder once, as PATH or as --path.');
  return arg ?? flag ?? metadataSourcePath(glanceConfig, process.env)?.path ?? DEFAULT_METADEFS_PATH;
}

export default class MetadefsLoad extends BaseCommand {
  static aliases = ['db:metadefs:load', 'db:load_metadefs'];
  static description =
    "Load Glance's metadata definitions (the namespace JSON files Glance installs in /etc/glance/metadefs) into the metadef tables, in one transaction: all of it or nothing. " +
    'Every file is read and validated first, and every value checked against what the database columns hold: a missing folder, an invalid file or a value the database cannot store as written is an error (exit 28) and nothing is loaded. ' +
    'A namespace already in the database is skipped unless --merge: then what is new in the file is added, --prefer-new also updates what differs, ' +
    '--overwrite replaces the namespace with the file. Shows per namespace whether it was added, updated, unchanged or skipped.';
  static examples = [
    'glance-db metadefs load',
    'glance-db metadefs load --merge --prefer-new   # after upgrading Glance: bring changed definitions in',
    'glance-db db load_metadefs --path /etc/glance/metadefs --merge',
  ];
  static args = { path: pathArg('A folder of namespace .json files, or one file') };
  static flags = {
    merge: Flags.boolean({
      description:
        'Merge into namespaces that exist: add what is new in the file (nothing existing changes without --prefer-new or --overwrite).',
      default: false,
    }),
    'prefer-new': Flags.boolean({
      aliases: ['prefer_new'],
      description: 'With --merge: where the database and the file differ, take the file.',
      default: false,
    }),
    overwrite: Flags.boolean({
      description:
        "With --merge: replace each namespace that differs with the file's (items only in the database are removed).",
      default: false,
    }),
    path: pathFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MetadefsLoad);
    if (!flags.merge && (flags['prefer-new'] || flags.overwrite))
      throw new UsageError(
        '--prefer-new and --overwrite only work together with --merge.',
        'Add --merge (as glance-manage requires).',
      );
    if (flags['prefer-new'] && flags.overwrite)
      throw new UsageError('Give at most one of --prefer-new and --overwrite.');
    const path = pathOf(args.path, flags.path, flags['glance-config']);
    const ctx = this.context(flags);
    const mode = { merge: flags.merge, preferNew: flags['prefer-new'], overwrite: flags.overwrite };
    const started = performance.now();
    // Shown once the one transaction has committed: what it did, nothing it only tried.
    const plans = await loadMetadefs(ctx, path, mode);
    const sum = summary(plans);
    if (this.jsonMode)
      this.emitJson({
        ok: true,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        path,
        ...mode,
        ms: Math.round(performance.now() - started),
        summary: sum,
        namespaces: plans,
      });
    else {
      for (const p of plans) for (const l of planLines(p, (s) => s)) this.out(l);
      this.out(
        `metadefs: ${sum.added} added, ${sum.updated} updated, ${sum.unchanged} unchanged, ${sum.skipped} skipped`,
      );
    }
  }
}
