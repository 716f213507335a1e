// Types of #sql.js (package.json "imports"): sql.js as scripts/vendor-sqljs.mjs
// generates it into dist/vendor, sql.js with glanceDbFile() added.
import type { SqlJsConfig, SqlJsStatic } from 'sql.js';

/** The in-memory file sql.js keeps for a database (Emscripten MEMFS): its storage and the file's length in it. */
export interface GlanceDbFile {
  /** The storage; its length is the capacity, of which the first `length` bytes are the file. */
  bytes: Uint8Array;
  length: number;
}

export interface VendoredSqlJs extends SqlJsStatic {
  /** The in-memory file at an absolute path of sql.js's file system (a database's is `/${db.filename}`). */
  glanceDbFile(path: string): GlanceDbFile;
}

declare function initSqlJs(config?: SqlJsConfig): Promise<VendoredSqlJs>;
export default initSqlJs;
