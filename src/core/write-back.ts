// Long runs of short transactions (purge's batches, migrate's batches) on a
// driver that works on an in-memory copy of the file (SQLite): the file is
// written back at the end, and meanwhile every 2 s, or less often when one
// write-back takes long (a big file), so that at most a fifth of the run goes
// to writing. Elsewhere every commit is already durable: nothing to do.
import { describeDialect } from './driver/dialect.js';
import type { Driver } from './driver/driver.js';

const MIN_INTERVAL_MS = 2000;

/** Returns what to call after each committed batch (transactions run with deferWriteBack). */
export function periodicWriteBack(driver: Driver): () => Promise<void> {
  if (!describeDialect(driver.dialect).writesBack) return async () => {};
  let written = Date.now();
  let interval = MIN_INTERVAL_MS;
  return async () => {
    if (Date.now() - written < interval) return;
    const started = Date.now();
    await driver.flush();
    written = Date.now();
    interval = Math.max(MIN_INTERVAL_MS, 4 * (written - started));
  };
}
