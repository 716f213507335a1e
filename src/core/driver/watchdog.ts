// A deadline on every round trip to a server, without killing long
// statements. TCP keepalives alone cannot tell a long ALTER from a dead
// network quickly (Node sets only the idle time; the kernel then waits 75 s
// x 9 probes), and they are answered by any live TCP peer, such as a proxy
// that stopped forwarding. So when an answer has not come for half of
// --io-timeout, glance-db asks the server over a fresh connection what the
// session is doing: still running the statement (a long statement: keep
// waiting, and ask again later), idle although its answer never came (the
// answer was lost: seen twice in a row), or gone. No answer to that either
// within the other half of --io-timeout means the server is unreachable.
// Anything but "still running" ends the connection, and the run stops.
import { currentSink, exitAsSet } from '../../platform/sink.js';

export type SessionState = 'active' | 'idle' | 'gone';

export interface Session {
  /** Server-side id: PostgreSQL backend pid, MySQL connection id; undefined before it is known. */
  id(): number | undefined;
  /** Ends the connection at once (socket destroyed, no goodbye). */
  kill(): void;
}

export interface Probe {
  /** What the server says a session is doing, asked over a new connection. */
  state(id: number, timeoutMs: number): Promise<SessionState>;
  /** Cancels the statements running in these sessions, over a new connection. */
  cancel(ids: number[], timeoutMs: number): Promise<void>;
}

/** Rejects after ms unless the promise settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 100) / 10} s`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

export class RoundTrips {
  private readonly sessions = new Set<Session>();
  private readonly pending = new Map<Session, number>();
  /** Sessions ended as silent: any further round trip on them fails at once. */
  private readonly dead = new WeakSet<Session>();
  /** Why a connection was ended as silent, once one was. */
  silence: string | null = null;

  constructor(
    readonly ioTimeoutMs: number,
    private readonly probe: Probe,
  ) {}

  add(s: Session): void {
    this.sessions.add(s);
  }

  delete(s: Session): void {
    this.sessions.delete(s);
    this.pending.delete(s);
  }

  /** The round trip p on session s, bounded as described above. */
  track<T>(s: Session, p: Promise<T>): Promise<T> {
    const half = Math.max(250, Math.floor(this.ioTimeoutMs / 2));
    if (this.dead.has(s)) {
      p.catch(() => {});
      return Promise.reject(new SilentConnection(this.silence ?? 'the connection was ended'));
    }
    this.pending.set(s, (this.pending.get(s) ?? 0) + 1);
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let idleSeen = 0;
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        done = true;
        if (timer) clearTimeout(timer);
        const n = (this.pending.get(s) ?? 1) - 1;
        if (n > 0) this.pending.set(s, n);
        else this.pending.delete(s);
      };
      const check = async () => {
        if (done) return;
        const id = s.id();
        let state: SessionState | 'silent';
        try {
          // A little under half, so that the run has ended, closed and exited within the deadline.
          const ask = half - Math.min(500, Math.floor(half / 5));
          state = id === undefined ? 'active' : await within(this.probe.state(id, ask), ask, 'asking the server');
        } catch {
          state = 'silent';
        }
        if (done) return;
        if (state === 'active' || (state === 'idle' && ++idleSeen < 2)) {
          if (state === 'active') idleSeen = 0;
          timer = setTimeout(() => void check(), half);
          return;
        }
        const seconds = Math.round(this.ioTimeoutMs / 1000);
        this.silence =
          state === 'silent'
            ? `no answer for ${seconds} s, and a second connection could not reach the server either`
            : state === 'idle'
              ? `no answer for ${seconds} s, although the server had finished the statement (the answer was lost on the way)`
              : `no answer for ${seconds} s, and the server no longer has that session`;
        settle();
        this.dead.add(s);
        s.kill();
        p.catch(() => {});
        reject(new SilentConnection(this.silence));
      };
      timer = setTimeout(() => void check(), half);
      p.then(
        (v) => {
          if (done) return;
          settle();
          resolve(v);
        },
        (e) => {
          if (done) return;
          settle();
          reject(e);
        },
      );
    });
  }

  /** Sessions waiting for an answer right now. */
  busy(): number[] {
    return [...this.pending.keys()].map((s) => s.id()).filter((id): id is number => id !== undefined);
  }

  /** Cancels what the server runs for this run (signals), bounded; true if the server confirmed. */
  async cancelRunning(timeoutMs: number): Promise<boolean> {
    const ids = this.busy();
    if (ids.length === 0) return true;
    try {
      await within(this.probe.cancel(ids, timeoutMs), timeoutMs, 'cancelling');
      return true;
    } catch {
      this.killAll();
      return false;
    }
  }

  /**
   * After a silent connection: a second connection still trying to reach the
   * server must not hold the process for the rest of its deadline once the
   * run has reported (exit 18). Unref'd: fires only if something still holds it.
   */
  exitSoonIfHeld(): void {
    const sink = currentSink();
    setTimeout(() => exitAsSet(sink, 18), 200).unref();
  }

  killAll(): void {
    for (const s of this.sessions) {
      this.dead.add(s);
      s.kill();
    }
  }
}

/** A round trip ended because its connection went silent. */
export class SilentConnection extends Error {
  name = 'SilentConnection';
}
