// Reads a small input file (the manifest, Glance's config) without trusting
// its size: /dev/zero or a pipe reports size 0 and never ends, so reading
// stops past a bound instead of filling memory.
import { closeSync, openSync, readSync } from 'node:fs';

export class TooLargeError extends Error {
  constructor(readonly max: number) {
    super(`larger than ${max} bytes`);
  }
}

/** The whole content, or TooLargeError once more than max bytes were read; fs errors pass through. */
export function readBounded(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > max) throw new TooLargeError(max);
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}
