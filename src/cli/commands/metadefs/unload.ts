import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { UsageError } from '../../../platform/errors.js';
import { unloadMetadefs } from '../../../app/metadefs.js';

export default class MetadefsUnload extends BaseCommand {
  static aliases = ['db:metadefs:unload', 'db:unload_metadefs'];
  static description =
    'Remove every metadata definition (all six metadef tables are emptied, in one transaction). Asks for --yes.';
  static examples = ['glance-db metadefs unload --yes'];
  static flags = {
    yes: Flags.boolean({ char: 'y', description: 'Yes, remove every metadata definition.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MetadefsUnload);
    if (!flags.yes)
      throw new UsageError(
        'metadefs unload removes every metadata definition from the database; nothing was changed.',
        'Run it again with --yes (glance-db metadefs export PATH keeps a copy first).',
      );
    const ctx = this.context(flags);
    const tables = await unloadMetadefs(ctx);
    if (this.jsonMode) this.emitJson({ ok: true, dialect: ctx.target.dialect, database: ctx.target.display, tables });
    else {
      for (const t of tables) this.out(`${t.table}: ${t.rows} row(s) deleted`);
      this.out('metadefs unload: done');
    }
  }
}
