// Shared flags and the one place errors become output: a one-paragraph
// message (and a hint) on stderr, or a JSON object on stdout with --json,
// and a documented exit code. No stack trace unless GLANCE_DB_DEBUG is set,
// and every line passes through redactUrl() on its way out.
import { Command, Flags } from '@oclif/core';
import { ExitCode, GlanceDbError, UsageError } from './errors.js';
import { resolveContext, type RunContext } from './engine/context.js';
import { redactUrl } from './url.js';

export abstract class BaseCommand extends Command {
  static baseFlags = {
    config: Flags.string({ char: 'c', description: 'Path of the manifest [default: ./glance-db.yaml if present, else the one shipped with glance-db].', helpGroup: 'GLOBAL' }),
    url: Flags.string({ description: 'Database URL; overrides GLANCE_DB_URL and the manifest (sqlite:PATH, postgresql://..., mysql://...).', helpGroup: 'GLOBAL' }),
    'glance-config': Flags.string({ description: "Read the database URL from Glance's own config file ([database] connection), e.g. /etc/glance/glance-api.conf.", helpGroup: 'GLOBAL' }),
    json: Flags.boolean({ description: 'Print one JSON object on stdout (shape in README).', default: false, helpGroup: 'GLOBAL' }),
    'lock-wait': Flags.integer({ description: 'Seconds to wait for another glance-db run to finish.', default: 60, min: 0, helpGroup: 'GLOBAL' }),
    'connect-timeout': Flags.integer({ description: 'Seconds to wait for a database server to answer.', default: 10, min: 1, helpGroup: 'GLOBAL' }),
    'statement-timeout': Flags.integer({ description: 'PostgreSQL/MySQL: seconds one statement may run; 0 = no limit.', default: 0, min: 0, helpGroup: 'GLOBAL' }),
    'lock-timeout': Flags.integer({ description: 'PostgreSQL/MySQL: seconds a statement may wait for a table lock; 0 = no limit.', default: 0, min: 0, helpGroup: 'GLOBAL' }),
    'io-timeout': Flags.integer({ description: 'PostgreSQL/MySQL: seconds a connection may stay silent (the server unreachable or no longer running the statement) before the run stops (exit 18); long statements are not limited by it.', default: 60, min: 1, max: 86400, helpGroup: 'GLOBAL' }),
  };

  protected jsonMode = false;

  /** Builds the resolved context from the global flags. */
  protected context(flags: { config?: string; url?: string; 'glance-config'?: string; 'lock-wait': number; 'connect-timeout': number; 'statement-timeout': number; 'lock-timeout': number; 'io-timeout'?: number }): RunContext {
    return resolveContext({
      config: flags.config,
      url: flags.url,
      envUrl: process.env.GLANCE_DB_URL || undefined,
      glanceConfig: flags['glance-config'],
      lockWait: flags['lock-wait'],
      connectTimeout: flags['connect-timeout'],
      statementTimeout: flags['statement-timeout'],
      lockTimeout: flags['lock-timeout'],
      ioTimeout: flags['io-timeout'],
    });
  }

  protected out(text: string): void {
    if (!this.jsonMode) process.stdout.write(`${redactUrl(text)}\n`);
  }

  protected emitJson(value: Record<string, unknown>): void {
    process.stdout.write(`${redactUrl(JSON.stringify({ command: this.id?.replace(/^db:/, ''), ...value }, null, 2))}\n`);
  }

  async init(): Promise<void> {
    await super.init();
    this.jsonMode = this.argv.includes('--json');
  }

  async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    const e = toGlanceDbError(err);
    process.exitCode = e.exitCode;
    if (this.jsonMode) {
      const error = { code: e.code, exitCode: e.exitCode, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...e.fields };
      this.emitJson({ ok: false, error });
      return;
    }
    let text = `error: ${e.message}`;
    if (e.hint) text += `\nhint: ${e.hint}`;
    if (process.env.GLANCE_DB_DEBUG && err.stack) text += `\n${err.stack}`;
    process.stderr.write(`${redactUrl(text)}\n`);
  }
}

function toGlanceDbError(err: Error & { oclif?: { exit?: number } }): GlanceDbError {
  if (err instanceof GlanceDbError) return err;
  // oclif's argument and flag parsing errors.
  if (err.oclif?.exit === 2 || /Parse|Flag|Arg/.test(err.constructor?.name ?? '')) {
    return new UsageError(err.message.split('\n').filter((l) => !/^\s*See more help/.test(l)).join(' ').replace(/\s+/g, ' ').trim(), 'Run glance-db COMMAND --help for usage.');
  }
  if (typeof err.oclif?.exit === 'number' && err.oclif.exit === 0) return new GlanceDbError('USAGE', err.message);
  return new GlanceDbError('INTERNAL', `Unexpected internal error: ${err.message}`, {
    cause: err,
    hint: 'This is a bug in glance-db; rerun with GLANCE_DB_DEBUG=1 for the stack trace and report it.',
  });
}

export { ExitCode };
