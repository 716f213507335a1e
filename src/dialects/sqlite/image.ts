// sql.js, the embedded SQLite (WebAssembly), and the database image it
// works on: started once per process, the file read whole into memory (with
// room to grow in place), checked, and exported again for the write-back.
import { statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Database } from 'sql.js';
import initSqlJs, { type GlanceDbFile, type VendoredSqlJs as SqlJsStatic } from '#sql.js';
import { ConfigError } from '../../platform/errors.js';
import { SQL_WASM } from '../../platform/paths.js';
import { FileTooLargeError, MAX_WHOLE_FILE, NotRegularFileError, readWholeFile } from '../../platform/read-whole.js';
import { checkImage, CORRUPT, damaged, notRegular } from './file-checks.js';

export type { SqlJsStatic };

let sqlJs: Promise<SqlJsStatic> | null = null;

/** Below this size a run is short, and optimizing sql.js costs more than it saves. */
const BASELINE_COMPILER_BELOW = 64 * 1024 * 1024;

/**
 * sql.js is WebAssembly. V8 starts it on its baseline compiler and recompiles
 * hot functions (SQLite's bytecode interpreter above all) with its optimizing
 * compiler on background threads, and the process cannot exit before those
 * jobs finish: about 70 ms at the end of a fresh sync, 80 ms of a `version`.
 * That only pays off on a long upgrade, so a database under 64 MiB (or none
 * yet) runs on the baseline compiler alone. Decided once, before sql.js is
 * first compiled; a big database later in the same process keeps the choice.
 */
function startSqlJs(path: string): Promise<SqlJsStatic> {
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    // No file yet: a new database, as small as they come.
  }
  if (size < BASELINE_COMPILER_BELOW) setFlagsFromString('--liftoff-only');
  return initSqlJs(SQL_WASM ? { locateFile: () => SQL_WASM! } : undefined);
}

/** sql.js, started on the first call (sized for the database at path, see startSqlJs). */
export function sqlJsFor(path: string): Promise<SqlJsStatic> {
  sqlJs ??= startSqlJs(path);
  return sqlJs;
}

/** A database image in memory, and the file sql.js keeps it in (null: write-backs export a copy). */
export interface Image {
  db: Database;
  image: GlanceDbFile | null;
}

/** The file's bytes as a database: checked, held without a copy, in rollback-journal mode. */
export function openImage(SQL: SqlJsStatic, bytes: Buffer, name: string, file: string): Image {
  if (bytes.length > 0 && bytes.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
    throw new ConfigError(`${name} is not a SQLite database file.`);
  }
  if (bytes.length > 0) checkImage(bytes, bytes.length, name, file);
  // sql.js keeps a Buffer it is given (its first write to a new file takes
  // buffer.slice(), a view for a Buffer): the file is in memory once.
  const db = new SQL.Database(bytes);
  const image = imageOf(SQL, db);
  // ...and with the room read-whole left behind it, the upgrade's growth
  // stays in place instead of sql.js copying the whole file into a bigger buffer.
  if (image && image.bytes.buffer === bytes.buffer && image.bytes.byteOffset === 0 && image.length === bytes.length) {
    image.bytes = new Uint8Array(bytes.buffer);
  }
  try {
    db.exec('SELECT count(*) FROM sqlite_master');
    // A file left in WAL mode (no -wal, or an empty one: see pendingSidecar) is
    // run in rollback-journal mode, so that every commit lands in the image
    // that is written back; it is written back in that mode, as before.
    if (bytes.length >= 20 && (bytes[18] === 2 || bytes[19] === 2)) db.exec('PRAGMA journal_mode=DELETE');
  } catch (err) {
    db.close();
    throw CORRUPT.test((err as Error).message) ? damaged(name, file, `SQLite says "${(err as Error).message}"`) : err;
  }
  return { db, image };
}

/**
 * The whole database as bytes: the file sql.js keeps in memory, as it is,
 * when it is whole (no transaction open, every committed page in it, no
 * WAL); otherwise, which nothing here leads to, sql.js's export() (a copy
 * through SQLite's backup API). A clear error when the database has outgrown
 * what one buffer holds.
 */
export function exportImage({ db, image }: Image, name: string): Uint8Array {
  const pragma = (p: string) => db.exec(`PRAGMA ${p}`)[0]?.values[0]?.[0];
  const expected = Number(pragma('page_count')) * Number(pragma('page_size'));
  if (image && image.length === expected && pragma('journal_mode') !== 'wal' && !inTransaction(db)) {
    return image.bytes.subarray(0, image.length);
  }
  try {
    return db.export();
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw outgrown(name, expected, err);
  }
}

const GiB = 1024 ** 3;

/** The in-memory file behind db (null if sql.js ever keeps it elsewhere: then write-backs export a copy). */
export function imageOf(SQL: SqlJsStatic, db: Database): GlanceDbFile | null {
  try {
    return SQL.glanceDbFile(`/${(db as Database & { filename: string }).filename}`);
  } catch {
    return null;
  }
}

/** The database outgrew what sql.js holds in one buffer: exit 3, nothing written back. */
export function outgrown(name: string, bytes: number, err: RangeError): ConfigError {
  return new ConfigError(
    `${name} has grown${bytes ? ` past ${(bytes / GiB).toFixed(2)} GiB` : ''} during the upgrade, more than the embedded SQLite engine (sql.js) can hold in one buffer (${err.message}). The file on disk was left as it was before this run; \`glance-db version\` shows its version.`,
    { cause: err, hint: TOO_LARGE_HINT },
  );
}

/** Whether a transaction is open on db (sql.js has no sqlite3_get_autocommit): BEGIN fails inside one. */
function inTransaction(db: Database): boolean {
  try {
    db.exec('BEGIN');
  } catch {
    return true;
  }
  db.exec('ROLLBACK');
  return false;
}

/**
 * Room for the database to grow in place in memory: an upgrade from 44 to 51
 * grows a catalogue by about a tenth. Memory never written is not taken.
 */
export const ROOM_TO_GROW = (size: number) => Math.ceil(size / 4 / 65536) * 65536;

const TOO_LARGE_HINT =
  'Upgrade a database this large on PostgreSQL or MySQL, or apply the reviewed SQL files (glance-db plan) with the sqlite3 command-line tool.';

/** The whole file, or a clear error when it cannot be held in memory (sql.js works on an in-memory image). */
export function readSqliteFile(path: string, name: string, read = () => readWholeFile(path, ROOM_TO_GROW)): Buffer {
  try {
    return read();
  } catch (err) {
    if (err instanceof NotRegularFileError) throw notRegular(name, null);
    if (!(err instanceof FileTooLargeError)) throw err;
    throw new ConfigError(
      `${name} is ${(err.size / GiB).toFixed(2)} GiB: the embedded SQLite engine (sql.js) holds the whole file in memory, and one buffer holds at most ${(MAX_WHOLE_FILE / GiB).toFixed(0)} GiB. Nothing was changed.`,
      { hint: TOO_LARGE_HINT },
    );
  }
}
