import { BaseCommand } from '../../base-command.js';
import { DB_CHECK_CODES, dbCheck, type GlanceStep } from '../../../app/db-check.js';
import { terminalText } from '../../terminal.js';
import { scrubSecrets } from '../../../platform/url.js';
import { ExitCode, GlanceDbError } from '../../../platform/errors.js';
import { rollingJson } from '../../../core/phases.js';
import { givenTarget, targetArg } from '../../args.js';
import { releaseFlag } from '../../flags.js';
import { goalJson } from '../../../glance/goal.js';
import { asGlanceManage, GLANCE_MANAGE_CHECK } from '../../manage-mode.js';
import { writeErr } from '../../../platform/sink.js';

export default class DbCheck extends BaseCommand {
  static description =
    "glance-manage's db check: what a rolling upgrade needs next, with glance-manage's exit codes, for deployment scripts written for it: " +
    '0 up to date, 3 expand needed, 4 migrate needed, 5 contract needed; 36 any other state (drift, a gap, a partly applied version: glance-db check says which). ' +
    "glance-db check (without db) keeps glance-db's own codes.";
  static args = {
    target: targetArg(
      'TARGET',
      "The version the database should reach: a number or a Glance release (zed, 2023.2, 28.0) [default: the installed Glance's, else the newest].",
    ),
  };
  static flags = { release: releaseFlag('The release the database should reach') };
  static examples = [
    'glance-db db check',
    'glance-db db check zed',
    'glance-db db check --glance-config /etc/glance/glance-api.conf; echo $?',
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DbCheck);
    const ctx = this.context(flags, false, givenTarget(args.target, flags.release, 'TARGET'));
    const r = await dbCheck(ctx);
    if (asGlanceManage() && !this.jsonMode) return this.asGlanceManage(r.step, r.line);
    process.exitCode = r.step === 'other' ? ExitCode.DB_CHECK_OTHER : DB_CHECK_CODES[r.step];
    const c = r.check;
    if (this.jsonMode)
      this.emitJson({
        command: 'db check',
        ok: r.step === 'up-to-date',
        step: r.step,
        state: c.state,
        exitCode: process.exitCode,
        current: c.current,
        latest: ctx.goal!.newest,
        target: goalJson(ctx.goal!),
        message: r.line,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        ...(c.rolling ? { rolling: rollingJson(c.rolling) } : {}),
      });
    else this.out(r.line);
  }

  /**
   * Started as glance-manage: its line and exit code (src/cli/manage-mode.ts); a state its check has no answer
   * for fails as glance-manage's own errors do, exit 1, glance-db's line on stderr.
   */
  private asGlanceManage(step: GlanceStep, line: string): void {
    if (step === 'other') {
      process.exitCode = 1;
      writeErr(terminalText(scrubSecrets(`${line}\n`)));
      return;
    }
    process.exitCode = DB_CHECK_CODES[step];
    this.out(GLANCE_MANAGE_CHECK[step]);
  }

  /** An error whose glance-db code would read as a phase here (3 configuration, 4 checksum, 5 not under version control) exits 36 instead. */
  async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    // As glance-manage, every failure is exit 1 (its sys.exit(message)); 3, 4 and 5 would read as a step.
    if (asGlanceManage() && !this.jsonMode) {
      await super.catch(err);
      process.exitCode = 1;
      return;
    }
    if (err instanceof GlanceDbError && [3, 4, 5].includes(err.exitCode)) {
      return super.catch(
        new GlanceDbError('DB_CHECK_OTHER', err.message, {
          hint: err.hint,
          fields: { ...err.fields, glanceDbCode: err.code },
        }),
      );
    }
    return super.catch(err);
  }
}
