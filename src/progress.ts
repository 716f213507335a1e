// Progress where logs are read. On a terminal: one live line (the phase and
// its elapsed time). Otherwise (Ansible, kubectl logs, a pipe): a
// `progress: ` line on stderr when a phase starts that is worth a line (each
// version, a backup), and one every few seconds while any phase lasts
// (long statements, backups, waiting for another run's lock, reading or
// writing a big SQLite file). stdout stays for results.
export interface ProgressOptions {
  /** Live line instead of log lines. */
  tty: boolean;
  /** Seconds between `still` lines when not on a terminal. */
  everySeconds: number;
  write: (text: string) => void;
  now?: () => number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

export class ProgressReporter {
  private label: string | null = null;
  private started = 0;
  private timer: unknown = null;
  private frame = 0;
  private readonly now: () => number;
  private readonly every: (fn: () => void, ms: number) => unknown;
  private readonly clear: (handle: unknown) => void;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.every = opts.setInterval ?? ((fn, ms) => setInterval(fn, ms).unref());
    this.clear = opts.clearInterval ?? ((h) => clearInterval(h as NodeJS.Timeout));
  }

  /** A new phase; `announce` prints a line at once (not on a terminal). */
  phase(label: string, announce: boolean): void {
    this.stop();
    this.label = label;
    this.started = this.now();
    if (this.opts.tty) {
      this.timer = this.every(() => this.draw(), 200);
      return;
    }
    if (announce) this.opts.write(`progress: ${label}\n`);
    this.timer = this.every(() => this.opts.write(`progress: ${this.label}: still running, ${this.elapsed()} s\n`), Math.max(1, this.opts.everySeconds) * 1000);
  }

  /** The phase ended (its result is printed elsewhere). */
  stop(): void {
    if (this.timer !== null) this.clear(this.timer);
    if (this.timer !== null && this.opts.tty) this.opts.write('\r\x1b[K');
    this.timer = null;
    this.label = null;
  }

  private elapsed(): number {
    return Math.round((this.now() - this.started) / 1000);
  }

  private draw(): void {
    this.opts.write(`\r${'|/-\\'[this.frame++ % 4]} ${this.label} (${((this.now() - this.started) / 1000).toFixed(1)} s)\x1b[K`);
  }
}

/** Seconds between lines: GLANCE_DB_PROGRESS_SECONDS, default 5. */
export function progressSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.GLANCE_DB_PROGRESS_SECONDS);
  return Number.isInteger(n) && n >= 1 && n <= 3600 ? n : 5;
}
