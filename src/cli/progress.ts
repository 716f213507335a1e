// Progress where logs are read. On a terminal: one live line (the phase and
// its elapsed time). Otherwise (Ansible, kubectl logs, a pipe): a
// `progress: ` line on stderr when a phase starts that is worth a line (each
// version, a backup), and one every few seconds while any phase lasts
// (long statements, backups, waiting for another run's lock, reading or
// writing a big SQLite file). Inside a long version, the statement running
// is named: on the live line, in the `still running` lines, and in a line as
// each statement starts once the version has been quiet for a while
// (STATEMENT_GAP_MS), so a fast version prints nothing more than its own
// line. stdout stays for results.
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

/** A statement-start line only when no progress line was printed for this long. */
export const STATEMENT_GAP_MS = 2000;

export class ProgressReporter {
  private label: string | null = null;
  /** What inside the phase is running now (a version's statement), or null. */
  private sub: string | null = null;
  private started = 0;
  /** When the last log line was written. */
  private lastLine = 0;
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
    this.lastLine = this.started;
    if (announce) this.line(label);
    this.timer = this.every(
      () => this.line(`${this.current()}: still running, ${this.elapsed()} s`),
      Math.max(1, this.opts.everySeconds) * 1000,
    );
  }

  /**
   * What runs now inside the phase (`statement 3/7 (UPDATE images ...)`):
   * named by the live line and the `still running` lines, and in a line of
   * its own when nothing was printed for STATEMENT_GAP_MS.
   */
  detail(text: string): void {
    if (this.label === null) return;
    this.sub = text;
    if (!this.opts.tty && this.now() - this.lastLine >= STATEMENT_GAP_MS) this.line(this.current());
  }

  private current(): string {
    return this.sub === null ? this.label! : `${this.label}: ${this.sub}`;
  }

  private line(text: string): void {
    this.lastLine = this.now();
    this.opts.write(`progress: ${text}\n`);
  }

  /** The phase ended (its result is printed elsewhere). */
  stop(): void {
    if (this.timer !== null) this.clear(this.timer);
    if (this.timer !== null && this.opts.tty) this.opts.write('\r\x1b[K');
    this.timer = null;
    this.label = null;
    this.sub = null;
  }

  private elapsed(): number {
    return Math.round((this.now() - this.started) / 1000);
  }

  private draw(): void {
    this.opts.write(
      `\r${'|/-\\'[this.frame++ % 4]} ${this.current()} (${((this.now() - this.started) / 1000).toFixed(1)} s)\x1b[K`,
    );
  }
}

/** Seconds between lines: GLANCE_DB_PROGRESS_SECONDS, default 5. */
export function progressSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.GLANCE_DB_PROGRESS_SECONDS);
  return Number.isInteger(n) && n >= 1 && n <= 3600 ? n : 5;
}

/** `statement 3/7 (UPDATE images SET visibility ...)`: a statement as a progress line names it, on one short line. */
export function statementLabel(index: number, total: number, text: string, width = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `statement ${index + 1}/${total} (${flat.length > width ? `${flat.slice(0, width).trimEnd()} ...` : flat})`;
}
