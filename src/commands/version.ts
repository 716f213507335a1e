import { BaseCommand } from '../base-command.js';
import { readStatus } from '../engine/status.js';

export default class Version extends BaseCommand {
  static aliases = ['db:version'];
  static description =
    'Print the migration level of the database: an integer and nothing else on stdout. For a database that glance-manage still manages, ' +
    'the level and where it came from, e.g. "50 (alembic_version: wallaby_contract01)".';
  static examples = ['glance-db version', 'glance-db db version --url sqlite:/var/lib/glance/glance.sqlite'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const ctx = this.context(flags);
    const s = await readStatus(ctx);
    if (this.jsonMode) this.emitJson({ ok: true, version: s.version, managedBy: s.managedBy, source: s.source, ...(s.revisions ? { revisions: s.revisions } : {}), dialect: ctx.target.dialect, database: ctx.target.display });
    else process.stdout.write(s.managedBy === 'glance-db' ? `${s.version}\n` : `${s.version} (${s.source})\n`);
  }
}
