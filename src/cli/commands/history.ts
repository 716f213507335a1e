import { BaseCommand } from '../base-command.js';
import { listHistory } from '../../app/list-history.js';
import { historyText } from '../history-text.js';
import { rollingJson } from '../../core/phases.js';
import { scrubSecrets } from '../../platform/url.js';
import { terminalText } from '../terminal.js';
import { writeOut } from '../../platform/sink.js';

export default class History extends BaseCommand {
  static aliases = ['db:history'];
  static description =
    'List every row of the version table: version, name, kind (applied, baseline, adopted, failed, partly applied), applied_at, duration, ' +
    "statements done (MySQL), checksum and whether the file still has it, tool version, who ran it and each row's note (variant, accepted drift). Read-only; works in any state, gaps and drift included.";
  static examples = ['glance-db history', 'glance-db db history --url postgresql://glance@db/glance --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(History);
    const ctx = this.context(flags);
    const h = await listHistory(ctx);
    if (this.jsonMode)
      this.emitJson({
        ok: true,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        versions: h.entries,
        pending: h.pending,
        ...(h.rolling.underWay ? { rolling: rollingJson(h.rolling) } : {}),
        ...(h.glance ? { glance: h.glance } : {}),
        ...(h.handback ? { handback: h.handback } : {}),
      });
    else writeOut(terminalText(scrubSecrets(historyText(h))));
  }
}
