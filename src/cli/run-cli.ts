// The CLI run inside the calling process, for the tests: runCli(argv, {cwd, env})
// gives the {code, stdout, stderr} the real process (bin/run.js) gives, without
// starting one (about 0.3 s each). Output goes to buffers through src/platform/sink.ts;
// oclif's own printing (help, --version) through a console put in place for the
// run. The code reads process.env and process.cwd() directly, so runs are taken
// one at a time, each with the environment and folder it was given, put back
// afterwards, even when the run throws. A process.exit() on a command's path
// (src/core/driver/interrupt.ts, watchdog.ts) ends the run, not the process.
// A separate bundle entry (scripts/bundle.mjs): the real binary does not load it,
// and it shares the bundle's modules (the sink) with the commands oclif loads.
// Signals, concurrency, crashes and file locks are for real processes.
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { Config } from '@oclif/core';
import { main } from './cli.js';
import { useSink } from '../platform/sink.js';
import { forgetSecrets } from '../platform/url.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  cwd: string;
  /** The whole environment of the run (process.env is this object for its duration). */
  env: Record<string, string | undefined>;
  /** Standard input: glance-db reads none (it never prompts), so it is only accepted, as a process would. */
  input?: string;
  /** The path the program was started as (process.argv[1]): bin/run.js, or a link named glance-manage. */
  invokedAs?: string;
}

/** The signals a run may listen to; whatever a run added is taken off after it (it should leave none). */
const PROCESS_EVENTS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

let queue: Promise<unknown> = Promise.resolve();
export function runCli(argv: string[], opts: RunCliOptions): Promise<CliResult> {
  const run = queue.then(() => runOne(argv, opts));
  queue = run.catch(() => {});
  return run;
}

/** What bin/run.js prints for an error that escapes main(): one line, no stack trace unless GLANCE_DB_DEBUG. */
function unexpected(err: unknown): string {
  const e = err as Error | undefined;
  const text = process.env.GLANCE_DB_DEBUG ? String(e?.stack ?? err) : String(e?.message ?? err).split('\n')[0];
  const safe = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^\s]*)@/gi, '$1***@')
    // oxlint-disable-next-line no-control-regex -- the same escaping as bin/run.js
    .replace(
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
  return `error: unexpected: ${safe}\n`;
}

async function runOne(argv: string[], opts: RunCliOptions): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  let done = false;
  let exitWith: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (exitWith = resolve));
  const buffer = (into: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        if (!done) into.push(String(chunk));
        cb();
      },
    });
  const restoreSink = useSink({
    stdout: (text) => void (done || out.push(text)),
    stderr: (text) => void (done || err.push(text)),
    stderrIsTTY: () => false,
    exit: (code) => {
      if (!done) exitWith(code);
    },
  });
  const saved = {
    env: process.env,
    cwd: process.cwd(),
    exitCode: process.exitCode,
    console: globalThis.console,
    listeners: PROCESS_EVENTS.map((e) => new Set(process.listeners(e))),
  };
  let code: number;
  try {
    process.env = { ...opts.env } as NodeJS.ProcessEnv;
    process.chdir(opts.cwd);
    process.exitCode = undefined;
    globalThis.console = new Console({ stdout: buffer(out), stderr: buffer(err) });
    forgetSecrets();
    // A Config per run, not one for all: oclif's help changes the loaded Config (after `db:check --help`,
    // `db check extra` was an unknown command), so a cached one made later runs differ from a process.
    let config: Promise<Config> | null = null;
    const loadConfig = () => (config ??= Config.load(new URL('./cli.js', import.meta.url).href));
    const inProcess = { argv, invokedAs: opts.invokedAs ?? 'bin/run.js', config: loadConfig };
    try {
      const ended = await Promise.race([main(inProcess).then(() => null), exited]);
      code = ended ?? Number(process.exitCode ?? 0);
    } catch (e) {
      err.push(unexpected(e));
      code = 1;
    }
  } finally {
    done = true;
    restoreSink();
    globalThis.console = saved.console;
    process.exitCode = saved.exitCode;
    process.chdir(saved.cwd);
    process.env = saved.env;
    PROCESS_EVENTS.forEach((e, i) => {
      for (const l of process.listeners(e)) if (!saved.listeners[i].has(l)) process.off(e, l as NodeJS.SignalsListener);
    });
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
