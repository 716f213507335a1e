import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { exportMetadefs, type ExportFormat } from '../../../app/metadefs.js';
import { pathArg, pathFlag, pathOf } from './load.js';
import { writeErr } from '../../../platform/sink.js';

export default class MetadefsExport extends BaseCommand {
  static aliases = ['db:metadefs:export', 'db:export_metadefs'];
  static description =
    'Write every namespace in the database as one JSON file into PATH (created if missing; existing files of the same name are replaced), ' +
    "named like glance-manage names them (the display name's letters and digits). `metadefs load` reads the files back into the same rows. " +
    "--format glance-manage writes exactly what glance-manage db export_metadefs writes (one line per file, every null, protected as the database returns it: 1/0 on MySQL; no owner and no object's required, which glance-manage does not export).";
  static examples = [
    'glance-db metadefs export ./metadefs-backup',
    'glance-db db export_metadefs --path /etc/glance/metadefs',
    'glance-db metadefs export --format glance-manage ./as-glance-manage',
  ];
  static args = { path: pathArg('The folder to write into') };
  static flags = {
    path: pathFlag,
    format: Flags.string({
      options: ['glance-db', 'glance-manage'],
      default: 'glance-db',
      description:
        "glance-db: indented, what load needs to give back the same rows (owner, objects' required); glance-manage: glance-manage's own format, byte for byte.",
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MetadefsExport);
    const path = pathOf(args.path, flags.path, flags['glance-config']);
    const ctx = this.context(flags);
    const warnings: string[] = [];
    const files = await exportMetadefs(ctx, path, (text) => warnings.push(text), flags.format as ExportFormat);
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        path,
        format: flags.format,
        files,
        ...(warnings.length ? { warnings } : {}),
      });
      return;
    }
    for (const w of warnings) writeErr(`warning: ${w}\n`);
    for (const f of files) this.out(`${f.overwrote ? 'replaced' : 'wrote'} ${f.file} (${f.namespace})`);
    this.out(`metadefs export: ${files.length} namespace(s) written to ${path}`);
  }
}
