// SQLite runs in sql.js's WebAssembly, which V8 compiles at every run: first
// with its baseline compiler (Liftoff), then, for the functions that run hot,
// again with its optimizing one on other threads. For a command that reads a
// few rows the second compile is about 150 ms of CPU (issue 31) that the run
// never gets back; for a populated upgrade it is what makes the statements
// fast. src/cli/wasm-tiering.ts says which commands only read; the driver
// registry applies it just before sql.js loads (src/dialects/create-driver.ts).
// Only then: V8's code cache (Node's compile cache) is keyed by V8's flags, so
// changing them in every run would make every module loaded afterwards miss it
// whenever a run with the other flags came in between.
import { setFlagsFromString } from 'node:v8';

let baselineOnly = false;

/** This run only reads: its WebAssembly may stay on the baseline compiler. */
export function preferBaselineWasm(): void {
  baselineOnly = true;
}

/** Before sql.js compiles its WebAssembly. */
export function beforeWasmCompile(): void {
  if (!baselineOnly) return;
  baselineOnly = false;
  setFlagsFromString('--no-wasm-tier-up');
  setFlagsFromString('--no-wasm-dynamic-tiering');
}
