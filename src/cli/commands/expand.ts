import { versionArg } from '../args.js';
import { MigrateCommand } from '../migrate-command.js';
import type { Phase } from '../../core/manifest/types.js';

export default class Expand extends MigrateCommand {
  protected phase: Phase = 'expand';
  static flags = MigrateCommand.flags;
  static aliases = ['db:expand'];
  static description =
    'Rolling upgrade, step 1 (on one node, while the old glance-api keeps serving): run the expand phase of every version up to VERSION (default: the newest): ' +
    'new columns, tables and indexes, and the triggers that keep old and new columns in agreement. Puts the database under version control if needed, as sync does. Then: migrate.';
  static examples = [
    'glance-db expand',
    'glance-db db expand --glance-config /etc/glance/glance-api.conf',
    'glance-db expand zed',
  ];
  static args = { version: versionArg('VERSION', 'Version to expand to (default: the newest in the manifest).') };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Expand);
    await this.migrate(this.context(flags), args.version, undefined, false, flags);
  }
}
