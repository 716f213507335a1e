// Reads a whole file into one Buffer. fs.readFileSync stops at 2 GiB
// (ERR_FS_FILE_TOO_LARGE), and a Glance catalogue of a million images is
// about 2.2 GiB as SQLite, so the file is read in chunks instead.
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import { constants } from 'node:buffer';

/** Bytes per read or write call: one fs call moves at most 2 GiB - 1. */
export const IO_CHUNK = 1024 ** 3;

/**
 * The largest file glance-db holds as one Buffer: 4 GiB. Node 22 and later
 * allow larger Buffers (2^53 - 1), but sql.js is 32-bit WebAssembly whose
 * file offsets and heap stop at 4 GiB, and nothing larger was ever tested;
 * so the limit stays what docs/dialects/sqlite.md documents, whatever Node allows.
 */
export const MAX_WHOLE_FILE = Math.min(constants.MAX_LENGTH, 4 * 1024 ** 3);

export class FileTooLargeError extends Error {
  constructor(readonly size: number) {
    super(`file of ${size} bytes is larger than ${MAX_WHOLE_FILE} bytes`);
  }
}

export class NotRegularFileError extends Error {
  constructor(readonly path: string) {
    super(`${path} is not a regular file`);
  }
}

/**
 * The whole of a regular file (a device, FIFO or folder is refused: it is
 * never opened for blocking I/O). With `room`, the Buffer's memory has that
 * many bytes more behind it (up to MAX_WHOLE_FILE in all), so the content
 * can grow in place (see the SQLite driver); memory not written is not
 * taken from the system.
 */
export function readWholeFile(path: string, room: (size: number) => number = () => 0): Buffer {
  const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  try {
    return readWholeDescriptor(fd, path, room);
  } finally {
    closeSync(fd);
  }
}

/**
 * The same through a descriptor the caller keeps open: a file under
 * SQLite's lock is read through the lock's own descriptor, because closing
 * any descriptor of a file drops every POSIX lock the process holds on it
 * (src/platform/sqlite-lock.ts).
 */
export function readWholeDescriptor(fd: number, path: string, room: (size: number) => number = () => 0): Buffer {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new NotRegularFileError(path);
  const size = st.size;
  if (size > MAX_WHOLE_FILE) throw new FileTooLargeError(size);
  const extra = Math.max(0, Math.min(room(size), MAX_WHOLE_FILE - size));
  const buf = extra > 0 ? Buffer.from(new ArrayBuffer(size + extra), 0, size) : Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, Math.min(size - off, IO_CHUNK), off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}
