// The process side of the drivers' interrupt handling (src/core/driver/interrupt.ts):
// SIGINT/SIGTERM listeners while a server driver is open, and the immediate
// end of the run (exit 22) after a second signal or a cancel the server did
// not confirm in time; and the SQLite file's (src/dialects/sqlite/file.ts):
// listeners while it holds its lock, then the signal handed on.
import { ExitCode } from '../platform/errors.js';
import { exitRun, writeErr } from '../platform/sink.js';
import type { InterruptHost } from '../core/driver/interrupt.js';

export const processInterruptHost: InterruptHost = {
  listen(onSignal) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  },
  unlisten(onSignal) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  },
  stop(signal, why) {
    writeErr(
      `error: Interrupted by ${signal}; ${why}.\nhint: Run glance-db sync again: on PostgreSQL the version in progress was rolled back, on MySQL it resumes.\n`,
    );
    exitRun(ExitCode.INTERRUPTED);
  },
  resignal(signal) {
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  },
};
