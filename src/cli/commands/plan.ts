import { Flags } from '@oclif/core';
import { versionArg } from '../args.js';
import { BaseCommand } from '../base-command.js';
import { DIALECT_NAMES, type Dialect } from '../../dialects/index.js';
import { plan, planScript, planText } from '../../app/plan.js';
import { UsageError } from '../../platform/errors.js';
import { suggest } from '../../core/run-context.js';
import { writeOutputFile } from '../../platform/output.js';
import { terminalText } from '../terminal.js';
import { writeOut } from '../../platform/sink.js';

export default class Plan extends BaseCommand {
  static description =
    "Print exactly the SQL sync would run, version by version, with file names and checksums: from the database's current level, or, " +
    'with --dialect or --from, offline from an empty database (or --from N). --output writes one script a DBA can run by hand that also records the version rows.';
  static examples = [
    'glance-db plan',
    'glance-db plan 51 --dialect mysql --from 44',
    'glance-db plan --dialect postgresql --output upgrade.sql',
  ];
  static args = { version: versionArg('VERSION', 'Version to plan up to (default: the newest).') };
  static flags = {
    dialect: Flags.string({ description: 'Plan offline for this dialect.', options: DIALECT_NAMES }),
    from: Flags.integer({ description: 'Plan offline from this version instead of from empty.' }),
    output: Flags.string({
      char: 'o',
      description: 'Write a runnable script to this file instead of the listing on stdout.',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plan);
    if (flags.output !== undefined && !flags.output.trim())
      throw new UsageError('--output is empty.', 'Give a file name, or leave --output out to print the plan.');
    const ctx = this.context(flags, flags.dialect !== undefined);
    const p = await plan(ctx, {
      version: args.version,
      dialect: flags.dialect as Dialect | undefined,
      from: flags.from,
    });
    if (flags.output && p.rolling) {
      throw new UsageError(
        `A rolling upgrade to ${p.rolling.state.to} is under way on ${ctx.target.display}: a plan script cannot run its phases (the migrate phase runs in batches). Nothing was written.`,
        `Finish it with ${suggest(ctx, String(p.rolling.state.next ?? 'sync'))} (and the phases after it), or ${suggest(ctx, 'sync')}; plan without --output lists what they run.`,
      );
    }
    if (flags.output)
      writeOutputFile(
        flags.output,
        planScript(ctx, p, new Date().toISOString()),
        'the plan to',
        'Give --output a path in an existing folder you can write to.',
      );
    if (this.jsonMode) this.emitJson({ ok: true, ...p, ...(flags.output ? { output: flags.output } : {}) });
    else if (flags.output)
      this.out(`wrote ${flags.output}: ${p.versions.length} version(s), ${p.from ?? 'empty'} -> ${p.to}, ${p.dialect}`);
    else writeOut(terminalText(planText(p)));
  }
}
