// The commands that only read (a few rows of history, the schema): for them
// SQLite's WebAssembly stays on V8's baseline compiler (src/platform/wasm-tiering.ts,
// about 150 ms of CPU less per run on SQLite, issue 31). Every other command
// (sync, upgrade, purge: those that may run a long statement) keeps V8's
// default. The server dialects run no WebAssembly: nothing changes there.
import { preferBaselineWasm } from '../platform/wasm-tiering.js';

export const READ_ONLY = new Set(['version', 'versions', 'history', 'check', 'db:check', 'verify', '--version', '-v']);

/** For the command line's first word (the command's id). */
export function tierForCommand(first: string | undefined): void {
  if (first !== undefined && READ_ONLY.has(first)) preferBaselineWasm();
}
