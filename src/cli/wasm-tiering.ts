// SQLite runs in sql.js's WebAssembly, which V8 compiles at every run: first
// with its baseline compiler (Liftoff), then, for the functions that run hot,
// again with its optimizing one on other threads. For a command that reads a
// few rows the second compile is about 150 ms of CPU (half of `version` on
// SQLite; measured on sql.js alone, issue 31) that the run never gets back;
// for a populated upgrade it is what makes the statements fast. So the
// commands below, which only read, keep the baseline code; every other
// command (sync, upgrade, purge: those that may run a long statement) keeps
// V8's default. The server dialects run no WebAssembly: nothing changes there.
import { setFlagsFromString } from 'node:v8';

export const READ_ONLY = new Set(['version', 'versions', 'history', 'check', 'db:check', 'verify', '--version', '-v']);

/** For the command line's first word (the command's id): before any WebAssembly is compiled. */
export function tierForCommand(first: string | undefined): void {
  if (first === undefined || !READ_ONLY.has(first)) return;
  setFlagsFromString('--no-wasm-tier-up');
  setFlagsFromString('--no-wasm-dynamic-tiering');
}
