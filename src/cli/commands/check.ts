import { BaseCommand } from '../base-command.js';
import { check } from '../../app/check.js';
import { ExitCode } from '../../platform/errors.js';
import { givenTarget, targetArg } from '../args.js';
import { releaseFlag } from '../flags.js';
import { goalJson } from '../../glance/goal.js';

export default class Check extends BaseCommand {
  static description =
    'For orchestration (init containers, Ansible): one line on stdout saying whether the database is current, and an exit code: ' +
    '0 current, 13 upgrade pending (below TARGET: by default the release of the Glance installed on this host, else the newest), 4 checksum drift, 5 not under version control, 14 a partly applied version (MySQL), 12 schema drift, 11 unknown version, 16 a gap in the version table, 3 the SQL file of an applied version missing or unreadable.';
  static examples = [
    'glance-db check',
    'glance-db check zed   # current once at the schema of Glance zed (50)',
    'glance-db check zed || glance-db sync zed',
    'glance-db check --json',
  ];
  static args = {
    target: targetArg(
      'TARGET',
      "The version the database should be at: a number or a Glance release (zed, 2023.2, 28.0) [default: the installed Glance's, else the newest].",
    ),
  };
  static flags = { release: releaseFlag('The release the database should be at') };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Check);
    const ctx = this.context(flags, false, givenTarget(args.target, flags.release, 'TARGET'));
    const r = await check(ctx);
    process.exitCode = r.code === 'OK' ? 0 : ExitCode[r.code];
    if (this.jsonMode)
      this.emitJson({
        ok: r.code === 'OK',
        state: r.state,
        exitCode: process.exitCode,
        current: r.current,
        latest: ctx.goal!.newest,
        target: goalJson(ctx.goal!),
        message: r.line,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        ...(r.differences ? { differences: r.differences } : {}),
        ...(r.gaps ? { gaps: r.gaps } : {}),
      });
    else this.out(r.line);
  }
}
