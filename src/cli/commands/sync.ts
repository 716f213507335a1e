import { versionArg } from '../args.js';
import { MigrateCommand } from '../migrate-command.js';

export default class Sync extends MigrateCommand {
  static flags = MigrateCommand.flags;
  static aliases = ['db:sync'];
  static description =
    'Put the database under version control (creating a SQLite file if missing) and upgrade it to VERSION (default: the newest). ' +
    'With CURRENT_VERSION, first record the database as already at that version (nothing run up to it).';
  static examples = [
    'glance-db sync',
    'glance-db sync 51',
    'glance-db db sync 51 44   # a database glance-db has not managed yet, known to be at 44',
  ];
  static args = {
    version: versionArg('VERSION', 'Version to upgrade to (default: the newest in the manifest).'),
    current_version: versionArg(
      'CURRENT_VERSION',
      'Version the database is already at, when it is not yet under version control.',
    ),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sync);
    await this.migrate(this.context(flags), args.version, args.current_version, false, flags);
  }
}
