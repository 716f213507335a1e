import { Flags } from '@oclif/core';
import { versionArg } from '../args.js';
import { defaultBackupDir, latestBackup } from '../../app/backup.js';
import { BaseCommand } from '../base-command.js';
import { downgradeError } from '../../app/sync-refusals.js';
import { writeOut, writeErr } from '../../platform/sink.js';

export default class Downgrade extends BaseCommand {
  static aliases = ['db:downgrade'];
  static description =
    'Never changes anything: downgrades are not supported. Prints how to restore the backup taken before the upgrade, and exits 6.';
  static examples = ['glance-db downgrade', 'glance-db db downgrade 45'];
  static flags = {
    'backup-dir': Flags.string({
      description: 'Where sync --backup put its backups, to name the latest [default: as sync].',
    }),
  };
  static args = { version: versionArg('VERSION', 'The version you wanted to go back to.') };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Downgrade);
    // No connection at all: the refusal cannot depend on, or touch, the database.
    const ctx = this.context(flags);
    const err = downgradeError(
      ctx,
      0,
      undefined,
      latestBackup(ctx.target, flags['backup-dir'] ?? defaultBackupDir(ctx.target, process.cwd())),
    );
    if (!this.jsonMode) {
      const asked = args.version === undefined ? '' : ` (to version ${args.version})`;
      writeErr(`Downgrade${asked} refused.\n`);
      err.restoreSteps.forEach((s, i) => writeOut(`${i + 1}. ${s}\n`));
    }
    throw err;
  }
}
