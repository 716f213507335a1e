// What bin/run.js starts: oclif, with the commands of src/cli/commands.ts. The
// build bundles this (and commands.ts) into dist/bundle/, so that a run loads
// a few files instead of some 400 modules.
// `help` and `completion` are answered here rather than as oclif commands:
// every command oclif knows costs start-up time on every run (as commands,
// these two and `versions` added about 15 ms of CPU to every
// `glance-db version`, hyperfine -N -r 30, user time), and they are rarely run.
// oclif's own error printing is replaced for what escapes the commands (an
// unknown command): one error:/hint: paragraph, or a JSON object with --json.
import { appendFileSync } from 'node:fs';
import { Config, flush, run, type Interfaces } from '@oclif/core';
import type { GlanceDbError } from '../platform/errors.js';
import { unknownCommandError } from './usage.js';
import { toolVersion } from './context.js';
import { outliveClosedOutput } from '../platform/output.js';
import { terminalText } from './terminal.js';
import { recordRoundTrips, roundTrips } from '../platform/round-trips.js';
import { setInvokedAs } from './manage-mode.js';
import { rewriteOsloArgv } from './oslo-argv.js';
import { writeOut, writeErr } from '../platform/sink.js';
import { tierForCommand } from './wasm-tiering.js';

/**
 * For a run inside another process (runCli, src/cli/run-cli.ts): the command line,
 * the name it was started under, and how to load oclif's Config. The real run
 * gives none of them: process.argv, and a Config loaded here.
 */
export interface InProcess {
  argv: string[];
  invokedAs: string;
  config: () => Promise<Config>;
}

export async function main(inProcess?: InProcess): Promise<void> {
  if (!inProcess) {
    outliveClosedOutput();
    traceRoundTrips(process.env.GLANCE_DB_ROUND_TRIPS);
  }
  const loadConfig = inProcess?.config ?? (() => Config.load(import.meta.url));
  // Started as glance-manage (a link to bin/run.js): src/cli/manage-mode.ts.
  setInvokedAs(inProcess ? inProcess.invokedAs : process.argv[1]);
  let argv = inProcess ? [...inProcess.argv] : process.argv.slice(2);
  const json = argv.includes('--json');
  try {
    // glance-manage's grammar and oslo's global options, anywhere on the line (src/cli/oslo-argv.ts).
    const oslo = rewriteOsloArgv(argv);
    argv = oslo.argv;
    if (oslo.debug && !process.env.GLANCE_DB_DEBUG) process.env.GLANCE_DB_DEBUG = '1';
    if (!inProcess) tierForCommand(argv);
    if (argv[0] === 'completion') {
      const config = await loadConfig();
      const { completionScript } = await import('./completion.js');
      writeOut(completionScript(config, argv[1]));
      return;
    }
    if (argv[0] === 'help') {
      // `glance-db help db sync` is `glance-db db sync --help`; an unknown subject gets the unknown-command answer.
      const words = argv.slice(1).filter((a) => !a.startsWith('-'));
      if (words.length) {
        const config = await loadConfig();
        const id = words.join(':');
        if (!config.findCommand(id) && !config.findTopic(id)) throw unknownCommandError(config, id);
      }
      argv = [...words, '--help'];
    }
    // A colon among the command's words (`db metadefs:export PATH`, as completion offers it): oclif counted the
    // id's colons, not the words it had used, and dropped as many words after the command (PATH, --yes, --help).
    // Such a command line is handed over with the id as one word, which oclif takes as it is.
    const lead = argv.findIndex((a) => a.startsWith('-'));
    if (argv.slice(0, lead === -1 ? argv.length : lead).some((w) => w.includes(':'))) {
      const config = await loadConfig();
      await run(commandIdFirst(config, argv), config);
    } else await run(argv, inProcess ? await loadConfig() : import.meta.url);
    // As oclif's execute(): not awaited. Its wait for 'drain' never ends when
    // the reader has gone (glance-db help | head), which left the process
    // exiting 13 with its top-level await unsettled.
    // In process (runCli), nothing was written to process.stdout: no wait for it to drain.
    if (!inProcess) flush().catch(() => {});
  } catch (err) {
    const e = err as Error & { oclif?: { exit?: number }; exitCode?: number; hint?: string };
    if (typeof e.exitCode === 'number' && 'code' in e && 'fields' in e)
      return report(e as unknown as GlanceDbError, json);
    const notFound = /^command (\S+) not found\.?$/i.exec(e?.message ?? '');
    if (!notFound) throw err;
    const config = await loadConfig();
    report(unknownCommandError(config, notFound[1]), json);
  }
}

/**
 * The argv with the command's words, spaced or colon-joined in any mix (`db metadefs:load`, `db:metadefs load`,
 * `db:metadefs:load`), made one colon-joined id: the longest run of leading words that names a command or topic.
 * Everything after it is left as typed, a positional argument holding a colon included.
 */
export function commandIdFirst(config: Interfaces.Config, argv: string[]): string[] {
  const known = new Set<string>();
  for (const id of config.commandIDs) {
    const parts = id.split(':');
    for (let n = 1; n <= parts.length; n++) known.add(parts.slice(0, n).join(':'));
  }
  const parts: string[] = [];
  let used = 0;
  for (const word of argv) {
    if (word.startsWith('-') || word === '') break;
    const next = [...parts, ...word.split(':')];
    if (!known.has(next.join(':'))) break;
    parts.push(...word.split(':'));
    used++;
  }
  return used === 0 ? argv : [parts.join(':'), ...argv.slice(used)];
}

function report(e: GlanceDbError, json: boolean): void {
  process.exitCode = e.exitCode;
  if (json) {
    const error = { code: e.code, exitCode: e.exitCode, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    writeOut(`${JSON.stringify({ command: null, glanceDbVersion: toolVersion(), ok: false, error }, null, 2)}\n`);
  } else writeErr(terminalText(`error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}\n`));
}

/**
 * GLANCE_DB_ROUND_TRIPS=FILE: at exit, one JSON line appended to FILE with the
 * command line, the round trips to the server and their statements
 * (src/platform/round-trips.ts); for the bench and docs/performance.md.
 */
function traceRoundTrips(file: string | undefined): void {
  if (!file) return;
  recordRoundTrips();
  process.on('exit', () => {
    const args = process.argv
      .slice(2)
      .map((a) => a.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@'));
    appendFileSync(
      file,
      `${JSON.stringify({ args, roundTrips: roundTrips.count, statements: roundTrips.statements })}\n`,
    );
  });
}
