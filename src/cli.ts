// What bin/run.js starts: oclif, with the commands of src/commands.ts. The
// build bundles this (and commands.ts) into dist/bundle/, so that a run loads
// a few files instead of some 400 modules.
// oclif's own error printing is replaced for what escapes the commands (an
// unknown command): one error:/hint: paragraph, or a JSON object with --json.
import { Config, flush, run } from '@oclif/core';
import type { GlanceDbError } from './errors.js';
import { unknownCommandError } from './usage.js';

export async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  try {
    await run(argv, import.meta.url);
    await flush();
  } catch (err) {
    const e = err as Error & { oclif?: { exit?: number } };
    const notFound = /^command (\S+) not found$/.exec(e?.message ?? '');
    if (!notFound) throw err;
    const config = await Config.load(import.meta.url);
    report(unknownCommandError(config, notFound[1]), argv.includes('--json'), config.version);
  }
}

function report(e: GlanceDbError, json: boolean, version: string): void {
  process.exitCode = e.exitCode;
  if (json) {
    const error = { code: e.code, exitCode: e.exitCode, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    process.stdout.write(`${JSON.stringify({ command: null, glanceDbVersion: version, ok: false, error }, null, 2)}\n`);
  } else process.stderr.write(`error: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}\n`);
}
