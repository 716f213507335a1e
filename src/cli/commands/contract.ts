import { MigrateCommand } from '../migrate-command.js';
import type { Phase } from '../../core/manifest/types.js';

export default class Contract extends MigrateCommand {
  protected phase: Phase = 'contract';
  static flags = MigrateCommand.flags;
  static aliases = ['db:contract'];
  static description =
    'Rolling upgrade, step 3 (once every glance-api node runs the new release): drop what only the old release needed (the compatibility triggers, old columns) and set the final constraints. ' +
    'Refused until every expand and migrate is done, and while rows still need the migrate phase (exit 35, with the count: run migrate). It never changes a visibility; it reports how many private images have live members. ' +
    'Afterwards the database is at the new version, alembic_version holds only the contract head.';
  static examples = ['glance-db contract', 'glance-db db contract --glance-config /etc/glance/glance-api.conf'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Contract);
    await this.migrate(this.context(flags), undefined, undefined, false, flags);
  }
}
