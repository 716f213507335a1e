// Reads a whole file into one Buffer. fs.readFileSync stops at 2 GiB
// (ERR_FS_FILE_TOO_LARGE); a Buffer holds up to buffer.constants.MAX_LENGTH
// (4 GiB on 64-bit Node 20), and a Glance catalogue of a million images is
// about 2.2 GiB as SQLite, so the file is read in chunks instead.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:buffer';

/** Bytes per read or write call: one fs call moves at most 2 GiB - 1. */
export const IO_CHUNK = 1024 ** 3;

/** The largest file this process can hold as one Buffer. */
export const MAX_WHOLE_FILE = constants.MAX_LENGTH;

export class FileTooLargeError extends Error {
  constructor(readonly size: number) {
    super(`file of ${size} bytes is larger than ${MAX_WHOLE_FILE} bytes`);
  }
}

export function readWholeFile(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_WHOLE_FILE) throw new FileTooLargeError(size);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, Math.min(size - off, IO_CHUNK), off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
