// Shared flags and the one place errors become output: a one-paragraph
// message (and a hint) on stderr, or a JSON object on stdout with --json,
// and a documented exit code. No stack trace unless GLANCE_DB_DEBUG is set,
// and every line passes through scrubSecrets() on its way out (the
// passwords of every URL in the arguments and GLANCE_DB_URL, registered in
// init() before anything can fail), and terminalText() (control characters
// from the database escaped, src/cli/terminal.ts).
import { Command, Flags } from '@oclif/core';
import { ExitCode, GlanceDbError, InternalError, PrivilegeError, UsageError } from '../platform/errors.js';
import { privilegeDenied } from '../core/driver/failure.js';
import { parseErrorToUsage } from './usage.js';
import { resolveContext, toolVersion } from './context.js';
import type { RunContext } from './context.js';
import { secondsFlag } from './flags.js';
import { registerSecretsOf, scrubSecrets, scrubValue } from '../platform/url.js';
import { jsonText, terminalText } from './terminal.js';
import { writeOut, writeErr } from '../platform/sink.js';
import { useInterruptHost } from '../core/driver/interrupt.js';
import { useRunningUser } from '../core/driver/running-user.js';
import { useGlanceEnvironment } from '../glance/installed.js';
import { processInterruptHost } from './interrupt-host.js';

export abstract class BaseCommand extends Command {
  static baseFlags = {
    config: Flags.string({
      char: 'c',
      description: 'Path of the manifest [default: ./glance-db.yaml if present, else the one shipped with glance-db].',
      helpGroup: 'GLOBAL',
    }),
    url: Flags.string({
      description:
        'Database URL; overrides GLANCE_DB_URL and the manifest (sqlite:PATH, postgresql://..., mysql://...).',
      helpGroup: 'GLOBAL',
    }),
    'glance-config': Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      description:
        "Read the database URL from Glance's own config ([database] connection, or the deprecated [DEFAULT] sql_connection), e.g. /etc/glance/glance-api.conf; repeat for several files or folders (*.conf), later ones winning, as oslo.config's --config-file/--config-dir.",
      helpGroup: 'GLOBAL',
    }),
    json: Flags.boolean({
      description: 'Print one JSON object on stdout (shape: schema/output.schema.json, docs/reference/json-output.md).',
      default: false,
      helpGroup: 'GLOBAL',
    }),
    'lock-wait': secondsFlag({
      name: 'lock-wait',
      description:
        "Seconds to wait for another glance-db run to finish (SQLite: also for another program's SQLite lock on the file).",
      default: 60,
      min: 0,
      helpGroup: 'GLOBAL',
    }),
    'connect-timeout': secondsFlag({
      name: 'connect-timeout',
      description: 'Seconds to wait for a database server to answer.',
      default: 10,
      min: 1,
      helpGroup: 'GLOBAL',
    }),
    'statement-timeout': secondsFlag({
      name: 'statement-timeout',
      description: 'PostgreSQL/MySQL: seconds one statement may run; 0 = no limit.',
      default: 0,
      min: 0,
      helpGroup: 'GLOBAL',
    }),
    'lock-timeout': secondsFlag({
      name: 'lock-timeout',
      description: 'PostgreSQL/MySQL: seconds a statement may wait for a table lock; 0 = no limit.',
      default: 0,
      min: 0,
      helpGroup: 'GLOBAL',
    }),
    'io-timeout': secondsFlag({
      name: 'io-timeout',
      description:
        'PostgreSQL/MySQL: seconds a connection may stay silent (the server unreachable or no longer running the statement) before the run stops (exit 18); long statements are not limited by it.',
      default: 60,
      min: 1,
      max: 86400,
      helpGroup: 'GLOBAL',
    }),
  };

  protected jsonMode = false;

  /** Builds the resolved context from the global flags. */
  protected context(
    flags: {
      config?: string;
      url?: string;
      'glance-config'?: string[];
      'lock-wait': number;
      'connect-timeout': number;
      'statement-timeout': number;
      'lock-timeout': number;
      'io-timeout'?: number;
    },
    offline = false,
    goal?: { version: number; word?: string },
  ): RunContext {
    const ctx = resolveContext({
      config: flags.config,
      url: flags.url,
      envUrl: process.env.GLANCE_DB_URL || undefined,
      glanceConfig: flags['glance-config'],
      osloEnv: process.env,
      offline,
      lockWait: flags['lock-wait'],
      connectTimeout: flags['connect-timeout'],
      statementTimeout: flags['statement-timeout'],
      lockTimeout: flags['lock-timeout'],
      ioTimeout: flags['io-timeout'],
      goal,
    });
    // Two sources naming different databases: which one won, and why (src/cli/database-source.ts sourceNotices).
    for (const n of ctx.notices ?? []) writeErr(`${terminalText(scrubSecrets(`notice: ${n}`))}\n`);
    return ctx;
  }

  protected out(text: string): void {
    if (!this.jsonMode) writeOut(`${terminalText(scrubSecrets(text))}\n`);
  }

  protected emitJson(value: Record<string, unknown>): void {
    // Shape: schema/output.schema.json; glanceDbVersion in every object.
    writeOut(
      `${jsonText(JSON.stringify(scrubValue({ command: this.id?.replace(/^db:/, ''), glanceDbVersion: toolVersion(), ...value }), null, 2))}\n`,
    );
  }

  async init(): Promise<void> {
    await super.init();
    // A server driver's SIGINT/SIGTERM handling (src/core/driver/interrupt.ts) goes through the process's signals.
    useInterruptHost(processInterruptHost);
    // The SQLite file's ownership checks (src/dialects/sqlite/file-checks.ts) compare with the user the process runs as.
    useRunningUser(process.geteuid?.());
    // Where Glance is installed (src/glance/installed.ts), when a caller passes no environment: the process's.
    useGlanceEnvironment(() => process.env);
    for (const arg of this.argv) registerSecretsOf(arg);
    registerSecretsOf(process.env.GLANCE_DB_URL);
    registerSecretsOf(process.env.OS_DATABASE__CONNECTION);
    this.jsonMode = this.argv.includes('--json');
  }

  async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    const e = toGlanceDbError(err, this.id);
    process.exitCode = e.exitCode;
    if (this.jsonMode) {
      const error = {
        code: e.code,
        exitCode: e.exitCode,
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
        ...e.fields,
      };
      this.emitJson({ ok: false, error });
      return;
    }
    let text = `error: ${e.message}`;
    if (e.hint) text += `\nhint: ${e.hint}`;
    if (process.env.GLANCE_DB_DEBUG && err.stack) text += `\n${err.stack}`;
    writeErr(`${terminalText(scrubSecrets(text))}\n`);
  }
}

function toGlanceDbError(err: Error & { oclif?: { exit?: number } }, commandId?: string): GlanceDbError {
  if (err instanceof GlanceDbError) {
    // oclif wraps a flag's own parse error in "Parsing --x \n\t...\nSee more help with --help".
    err.message = err.message.replace(/^Parsing --\S+\s*\n\t/, '').replace(/\nSee more help with --help$/, '');
    return err;
  }
  // oclif's argument and flag parsing errors.
  if (err.oclif?.exit === 2 || /Parse|Flag|Arg/.test(err.constructor?.name ?? ''))
    return parseErrorToUsage(err, commandId);
  if (typeof err.oclif?.exit === 'number' && err.oclif.exit === 0) return new UsageError(err.message);
  const refused = privilegeDenied(err);
  if (refused) return new PrivilegeError(refused, err);
  return new InternalError(err);
}

export { ExitCode };
