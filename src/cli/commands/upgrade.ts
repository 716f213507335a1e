import { versionArg } from '../args.js';
import { MigrateCommand } from '../migrate-command.js';
import { UsageError } from '../../platform/errors.js';

export default class Upgrade extends MigrateCommand {
  static flags = MigrateCommand.flags;
  static aliases = ['db:upgrade'];
  static description =
    'Upgrade a database that glance-db already manages to VERSION. Refuses a database not under version control (run sync for that).';
  static examples = ['glance-db upgrade 51', 'glance-db db upgrade 48'];
  static args = {
    version: versionArg(
      'VERSION',
      'Version to upgrade to: a number, or a Glance release (zed, 2023.2, 28.0); required unless --release.',
    ),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Upgrade);
    if (args.version === undefined && flags.release === undefined) {
      throw new UsageError(
        'glance-db upgrade needs VERSION (the version to upgrade to) or --release.',
        'For example: glance-db upgrade 51, or glance-db upgrade zed. Run glance-db help upgrade for its usage.',
      );
    }
    await this.migrate(this.context(flags), args.version, undefined, true, flags);
  }
}
