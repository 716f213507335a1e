// The commands that only read (a few rows of history, the schema): for them
// SQLite's WebAssembly stays on V8's baseline compiler (src/platform/wasm-tiering.ts,
// about 150 ms of CPU less per run on SQLite, issue 31). Every other command
// (sync, upgrade, purge: those that may run a long statement) keeps V8's
// default. The server dialects run no WebAssembly: nothing changes there.
import { preferBaselineWasm } from '../platform/wasm-tiering.js';

export const READ_ONLY = new Set(['version', 'versions', 'history', 'check', 'db:check', 'verify', '--version', '-v']);

/** For the command line's words: the command's id is its first word, or its first two (`db check`, as oclif's spaced topics take it). */
export function tierForCommand(words: readonly string[]): void {
  if (READ_ONLY.has(words[0]) || READ_ONLY.has(`${words[0]}:${words[1]}`)) preferBaselineWasm();
}
