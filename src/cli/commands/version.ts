import { BaseCommand } from '../base-command.js';
import { readStatus } from '../../app/status.js';
import { describeRolling, nextCommand, rollingJson } from '../../core/phases.js';
import { terminalText } from '../terminal.js';
import { asGlanceManage, glanceManageVersion } from '../manage-mode.js';
import { writeOut, writeErr } from '../../platform/sink.js';

export default class Version extends BaseCommand {
  static aliases = ['db:version'];
  static description =
    'Print the migration level of the database: an integer and nothing else on stdout. For a database that glance-manage still manages, ' +
    'where the level came from goes to stderr, e.g. "managed by glance-manage (alembic_version: wallaby_contract01)", and into --json.';
  static examples = ['glance-db version', 'glance-db db version --url sqlite:/var/lib/glance/glance.sqlite'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const ctx = this.context(flags);
    // Started as glance-manage: its answer, the Alembic revision(s) (src/cli/manage-mode.ts).
    if (asGlanceManage() && !this.jsonMode) {
      for (const line of await glanceManageVersion(ctx)) this.out(line);
      return;
    }
    const s = await readStatus(ctx);
    if (this.jsonMode)
      this.emitJson({
        ok: true,
        version: s.version,
        managedBy: s.managedBy,
        source: s.source,
        ...(s.revisions ? { revisions: s.revisions } : {}),
        ...(s.rolling ? { rolling: rollingJson(s.rolling) } : {}),
        dialect: ctx.target.dialect,
        database: ctx.target.display,
      });
    else {
      // stdout is the integer and nothing else (scripts read it); where the level came from goes to stderr.
      writeOut(`${s.version}\n`);
      if (s.managedBy === 'glance-manage') writeErr(terminalText(`managed by glance-manage (${s.source})\n`));
      if (s.rolling) writeErr(terminalText(`${describeRolling(s.rolling)}; next: ${nextCommand(ctx, s.rolling)}\n`));
    }
  }
}
