import { BaseCommand } from '../base-command.js';
import { check } from '../engine/check.js';
import { ExitCode } from '../errors.js';

export default class Check extends BaseCommand {
  static description =
    'For orchestration (init containers, Ansible): one line on stdout saying whether the database is current, and an exit code: ' +
    '0 current, 13 upgrade pending, 4 checksum drift, 5 not under version control, 14 a partly applied version (MySQL), 12 schema drift, 11 unknown version, 16 a gap in the version table, 3 the SQL file of an applied version missing or unreadable.';
  static examples = ['glance-db check', 'glance-db check --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Check);
    const ctx = this.context(flags);
    const r = await check(ctx);
    process.exitCode = r.code === 'OK' ? 0 : ExitCode[r.code];
    if (this.jsonMode) this.emitJson({ ok: r.code === 'OK', state: r.state, exitCode: process.exitCode, current: r.current, latest: r.latest, message: r.line, dialect: ctx.target.dialect, database: ctx.target.display, ...(r.differences ? { differences: r.differences } : {}), ...(r.gaps ? { gaps: r.gaps } : {}) });
    else this.out(r.line);
  }
}
