// Replaces a file so that a crash at any moment leaves either the old or the
// new content, never a torn file: temp file in the same folder (same file
// system, so rename is atomic), fsync, rename, fsync the folder.
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IO_CHUNK } from './read-whole.js';

export interface AtomicWriteHooks {
  /** Replaced in tests to fail between the temp write and the rename. */
  rename?: (from: string, to: string) => void;
  /** Bytes per write call; lowered in tests to write a small file in pieces. */
  maxWrite?: number;
}

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

export function writeFileAtomic(path: string, data: Uint8Array, hooks: AtomicWriteHooks = {}): void {
  const tmp = tempPathFor(path);
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // New file: default mode.
  }
  const fd = openSync(tmp, 'w', mode);
  try {
    // One write call takes at most 2 GiB - 1 bytes; a SQLite file may be bigger.
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, Math.min(data.length - off, hooks.maxWrite ?? IO_CHUNK));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    (hooks.rename ?? renameSync)(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone: nothing to clean.
    }
    throw err;
  }
  fsyncDir(dirname(path));
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
