import { MigrateCommand } from '../migrate-command.js';
import type { Phase } from '../../core/manifest/types.js';

export default class Migrate extends MigrateCommand {
  protected phase: Phase = 'migrate';
  static flags = MigrateCommand.flags;
  static aliases = ['db:migrate'];
  static description =
    'Rolling upgrade, step 2 (after expand, while old and new glance-api nodes serve): the data migrations of the expanded versions, in batches: ' +
    'each statement again and again, each run its own short transaction, until it changes no row, with progress (rows done / total, rate). A run stopped at any point is continued by the next; ' +
    'run again after migrate, it finishes rows written since that still need it (what contract refuses over), leaving every set value. ' +
    'Refused before expand (exit 35). Then, once every glance-api node runs the new release: contract.';
  static examples = ['glance-db migrate', 'glance-db db migrate --glance-config /etc/glance/glance-api.conf'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Migrate);
    await this.migrate(this.context(flags), undefined, undefined, false, flags);
  }
}
