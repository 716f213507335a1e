// SIGINT/SIGTERM during a server run. Left alone, Node would exit at once and
// the server would keep running the statement that was sent (holding the
// migration lock). Instead, while a server driver is open: cancel the running
// statement on the server (pg_cancel_backend / KILL QUERY, over a second
// connection), let the run unwind (PostgreSQL rolls back, MySQL leaves the
// version resumable), close the connections, and exit 22. A second signal,
// or a server that does not answer within the grace time, ends the process
// at once, still with 22.
// The process's signals and its exit belong to cli (src/cli/interrupt-host.ts):
// it hands this module an InterruptHost; without one (a driver used outside
// the CLI) no signal is caught. The SQLite file's lock and write-back listen
// through the same host (interruptHost()).
import { InterruptedError } from '../../platform/errors.js';

/** What the CLI lends the drivers: the process's signals, and ending the run at once. */
export interface InterruptHost {
  /** Delivers SIGINT and SIGTERM to onSignal instead of the default exit, until unlisten. */
  listen(onSignal: (signal: NodeJS.Signals) => void): void;
  unlisten(onSignal: (signal: NodeJS.Signals) => void): void;
  /** Ends the run now with exit 22 (interrupted), saying why on stderr. */
  stop(signal: NodeJS.Signals, why: string): void;
  /**
   * Ends the process by the signal, as its default action would, unless a
   * listener is left for it: the SQLite file's handler (src/dialects/sqlite/file.ts)
   * hands the signal on so, once it released its lock and unlistened.
   */
  resignal(signal: NodeJS.Signals): void;
}

let host: InterruptHost | null = null;

/** Put in place by the CLI as a run starts (src/cli/base-command.ts). */
export function useInterruptHost(h: InterruptHost): void {
  host = h;
}

/** The host the CLI put in place, for a driver that handles the signals itself (SQLite's write-back); null outside the CLI. */
export function interruptHost(): InterruptHost | null {
  return host;
}

type Canceller = () => Promise<void>;

const cancellers = new Set<Canceller>();
let received: NodeJS.Signals | null = null;
let installed: InterruptHost | null = null;
const GRACE_MS = 10_000;

function stopNow(signal: NodeJS.Signals, why: string): void {
  host?.stop(signal, why);
}

function onSignal(signal: NodeJS.Signals): void {
  if (received) return stopNow(signal, 'stopped at once (second signal), the connections were dropped');
  received = signal;
  for (const c of cancellers) void c().catch(() => {});
  setTimeout(
    () =>
      stopNow(
        signal,
        `the server did not confirm the cancel within ${GRACE_MS / 1000} s, the connections were dropped`,
      ),
    GRACE_MS,
  ).unref();
}

/** Cancels this run's server work on SIGINT/SIGTERM while registered; returns the unregister function. */
export function onInterrupt(cancel: Canceller): () => void {
  cancellers.add(cancel);
  if (!installed && host) {
    host.listen(onSignal);
    installed = host;
  }
  return () => {
    cancellers.delete(cancel);
    // After a signal the handlers stay, so that the run unwinds and reports instead of dying mid-way.
    if (cancellers.size === 0 && installed && !received) {
      installed.unlisten(onSignal);
      installed = null;
    }
  };
}

export function interruptedBy(): NodeJS.Signals | null {
  return received;
}

export function interruptedError(outcome: string): InterruptedError {
  return new InterruptedError(
    `Interrupted by ${received ?? 'a signal'}: the statement running on the server was cancelled and the connection closed. ${outcome}`,
    'Run glance-db sync again to continue.',
  );
}
