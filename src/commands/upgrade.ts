import { versionArg } from '../args.js';
import { MigrateCommand } from '../migrate-command.js';

export default class Upgrade extends MigrateCommand {
  static flags = MigrateCommand.flags;
  static aliases = ['db:upgrade'];
  static description = 'Upgrade a database that glance-db already manages to VERSION. Refuses a database not under version control (run sync for that).';
  static examples = ['glance-db upgrade 51', 'glance-db db upgrade 48'];
  static args = { version: versionArg('VERSION', 'Version to upgrade to.', true) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Upgrade);
    await this.migrate(this.context(flags), args.version, undefined, true, flags);
  }
}
