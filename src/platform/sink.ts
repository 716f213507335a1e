// Where the CLI's output and exit go. The real run (bin/run.js, sea.ts) writes
// to process.stdout/stderr and exits the process; runCli (src/cli/run-cli.ts, for
// the tests) puts a sink of buffers in place for one run, so that a command
// runs in the test's process with the same stdout/stderr split and exit code.
// Every write and process.exit() on a command's path goes through here.

export interface Sink {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (the progress display). */
  stderrIsTTY(): boolean;
  /**
   * Ends the run with this code: process.exit() for the real process. An
   * in-process sink settles its run and returns, so a caller has nothing after it.
   */
  exit(code: number): void;
}

export const processSink: Sink = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stderrIsTTY: () => Boolean(process.stderr.isTTY),
  exit: (code) => process.exit(code),
};

let current: Sink = processSink;

export const writeOut = (text: string): void => current.stdout(text);
export const writeErr = (text: string): void => current.stderr(text);
export const stderrIsTTY = (): boolean => current.stderrIsTTY();
/** process.exit() on a command's path: under runCli, the run ends with this code and the test process lives on. */
export const exitRun = (code: number): void => current.exit(code);
/** The sink in place now, for a timer that may fire after its run (it must end that run, not the next one's). */
export const currentSink = (): Sink => current;

/** Puts a sink in place; returns the function that puts the previous one back. */
export function useSink(sink: Sink): () => void {
  const previous = current;
  current = sink;
  return () => {
    current = previous;
  };
}

/** Ends the run of `sink` with the exit code the process already has (process.exitCode), else `fallback`. */
export function exitAsSet(sink: Sink, fallback: number): void {
  sink.exit(Number(process.exitCode ?? fallback));
}
