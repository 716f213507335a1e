// What a server driver's errors mean once it is connected: a signal
// (exit 22), a connection that broke or went silent (exit 18), or whatever
// the driver reported. Applied to every method of a server driver, so that
// no server-side event reaches the "internal error" path.
import { GlanceDbError, MigrationFailedError } from '../../platform/errors.js';
import type { Driver } from './driver.js';
import { connectionLoss } from './failure.js';
import { interruptedBy } from './interrupt.js';

// Synchronous questions, and close(), which must run whatever happened.
const UNGUARDED = new Set(['close', 'exists', 'stopsRun', 'errorPosition', 'alreadyThere']);

export interface Classifier {
  /** The error to report for err after a signal. */
  interrupted(err: unknown): GlanceDbError;
  /** The error to report for a lost connection. */
  lost(err: unknown): GlanceDbError;
}

export function classify(err: unknown, c: Classifier): unknown {
  if (interruptedBy()) return err instanceof GlanceDbError && err.code === 'INTERRUPTED' ? err : c.interrupted(err);
  if (err instanceof GlanceDbError && !(err instanceof MigrationFailedError)) return err;
  if (connectionLoss(err)) return c.lost(err);
  return err;
}

export function guard(driver: Driver, c: Classifier): Driver {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (UNGUARDED.has(String(prop))) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        if (interruptedBy()) throw c.interrupted(null);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          throw classify(err, c);
        }
      };
    },
  });
}
