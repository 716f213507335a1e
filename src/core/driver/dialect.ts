// What glance-db knows about one dialect, apart from the driver's I/O: the
// shape of src/dialects/<name>/description.ts. The engine, the planner, the splitter and
// the project's own code read these fields instead of testing a dialect's
// name, so a fourth dialect is one more description (plus its driver, its
// introspector and its SQL files), not a dozen edited switches.
// A description imports nothing outside src/dialects but types and, lazily,
// its driver and introspector: url.ts and split.ts read DIALECTS while the
// CLI starts, and a SQLite run must never load slonik or mysql2.
import type { Driver, DriverConfig } from './driver.js';
import type { Dialect } from './dialect-name.js';
import type { Introspector } from '../introspect/model.js';
import type { DatabaseTarget, ServerTarget, SqliteTarget } from '../../platform/url.js';

export type { Dialect } from './dialect-name.js';

let described: Readonly<Record<Dialect, DialectDescription>> | null = null;

/**
 * Hands the engine the dialects' descriptions: the registry calls it once, as
 * it loads (src/dialects/index.ts), so that core reads a description through
 * this port and never imports the registry (ARCHITECTURE.md).
 */
export function provideDialects(descriptions: Readonly<Record<Dialect, DialectDescription>>): void {
  described = descriptions;
}

/** The description of a dialect, as the registry provided it. */
export function describeDialect(dialect: Dialect): DialectDescription {
  if (!described)
    throw new Error('internal: no dialect descriptions (src/dialects/index.ts provides them as it loads)');
  return described[dialect];
}

/** How the splitter (src/core/sql/split.ts) reads the dialect's comments and quotes. */
export interface SplitRules {
  /** `--` starts a comment only when whitespace follows (MySQL). */
  lineCommentNeedsSpace: boolean;
  /** `#` starts a line comment. */
  hashComments: boolean;
  /** `/*! ... *\/` is code, not a comment, and stays in the statement. */
  executableComments: boolean;
  /** Block comments nest. */
  nestedBlockComments: boolean;
  /** A backslash escapes the next character inside '...' (and "..." when those are strings). */
  backslashEscapes: boolean;
  /** E'...' strings take backslash escapes. */
  eStrings: boolean;
  /** "..." is a string, not a quoted identifier. */
  doubleQuotedStrings: boolean;
  /** `...` is a quoted identifier. */
  backtickIdentifiers: boolean;
  /** [...] is a quoted identifier. */
  bracketIdentifiers: boolean;
  /** $tag$ ... $tag$ quotes a string. */
  dollarQuotes: boolean;
  /**
   * LOCK TABLES / UNLOCK TABLES (and FLUSH TABLES ... WITH READ LOCK) lock
   * tables for the session and end its transaction (MySQL): refused in a
   * version file like transaction control (src/core/sql/split.ts). Elsewhere
   * (PostgreSQL's LOCK TABLE) a lock lasts until the version's transaction ends,
   * which is fine.
   */
  sessionTableLocks: boolean;
}

/** What a plan script's opening needs from src/core/script.ts to check the starting state. */
export interface ScriptGuardParts {
  /** The version table's name. */
  table: string;
  /** CREATE TABLE IF NOT EXISTS of the version table, and of alembic_version, without `;`. */
  createVersionTable: string;
  createAlembicVersion: string;
  /** Planned from a version (not from empty): alembic_version may tell the state. */
  fromVersion: boolean;
  /** SQL CASE over n, nf, nt, na, nr, hm, o giving 'from', 'done', 'adopt', 'empty' or 'other'. */
  stateCase: string;
  /** count(...) of complete version-table rows up to FROM (nf), and up to TO (nt). */
  countFrom: string;
  countTo: string;
  /** count(...) of alembic_version rows naming FROM (nr). */
  countRevisions: string;
  /** The Alembic revisions FROM is known by. */
  revisions: string[];
  /** `column NOT IN (version table, its lock table)`: tables that are not glance-db's (o). */
  others(column: string): string;
  /** The starting state in words. */
  start: string;
  /** The planned target version. */
  to: number;
  /** The rows that record the versions up to FROM as adopted: INSERT ... SELECT ... WHERE cond, or INSERT ... VALUES. */
  adoptIf(cond: string): string[];
  adoptRows(): string[];
  /** SQL literals: one value, and a comma-separated list. */
  literal(v: string | number): string;
  list(vs: (string | number)[]): string;
  /** The messages the guard stops the client with. */
  alreadyRan: string;
  wrongStart: string;
}

export interface DialectDescription<K extends 'file' | 'server' = 'file' | 'server'> {
  /** A database in a file next to glance-db (the URL names a path), or on a server (host, port, user, password). */
  kind: K;
  url: {
    /** Every URL scheme that means this dialect (oslo.db/SQLAlchemy forms included), lower case. */
    schemes: string[];
    /** The canonical form, in the hint of a URL that does not parse: `sqlite:PATH`. */
    form: string;
    /** The schemes in words, for a URL whose scheme glance-db does not speak. */
    spoken: string;
  };
  /** Defaults for what a server URL leaves out; null for a file. */
  server: K extends 'server' ? { defaultPort: number; defaultUser: string } : null;
  /**
   * DDL runs inside a transaction (a failed version leaves nothing behind).
   * When false (MySQL) every statement commits on its own: a version's row
   * records progress after each statement, and a failed version resumes.
   */
  transactionalDdl: boolean;
  /**
   * A trigger that refers to a column stays when the column is dropped, and
   * fails when it next fires (PostgreSQL: a trigger function's body is no
   * dependency; MySQL). False where dropping a column a trigger refers to is
   * refused (SQLite), so a tool that drops it rebuilds the table, and the
   * triggers go with the old one.
   */
  triggersSurviveDroppedColumn: boolean;
  split: SplitRules;
  /** Placeholders in parameterised SQL: `?` or PostgreSQL's `$1, $2, ...`. */
  placeholders: '?' | '$n';
  /** Booleans are a type of their own (PostgreSQL); elsewhere 1/0 integers. */
  nativeBooleans: boolean;
  /** INSERT ... RETURNING gives back the new id in the same round trip. */
  returning: boolean;
  /**
   * How a Python program sees this database through its usual driver (what
   * the metadefs export in the other tool's format reproduces): whether Python gets a
   * boolean column as an integer (MySQL's tinyint(1): 1/0), and the ORDER BY
   * that gives the rows of an unordered SELECT in the order the database
   * returns them (for a table alias: a namespace's resource type
   * associations; its properties, objects and tags).
   */
  pythonReads: {
    intBooleans: boolean;
    associationOrder: (alias: string) => string;
    itemOrder: (alias: string) => string;
  };
  /** Enums are named types, and a literal needs a cast (`'x'::image_visibility`). */
  namedEnumTypes: boolean;
  /**
   * What a text value can hold here, besides the lengths and character sets
   * the columns declare (metadefs load checks every value against both
   * before it writes).
   */
  text: {
    /** U+0000 can be stored (PostgreSQL's text cannot hold it). */
    nul: boolean;
    /** Bytes the text types that have a limit hold, by their introspected name (MySQL's text: 65,535). */
    typeBytes: Record<string, number>;
  };
  /**
   * How an existing column's default or nullability changes: SQL's ALTER
   * COLUMN, MySQL's MODIFY with the whole definition, or (SQLite) not at all,
   * so the table is rebuilt in its new form.
   */
  columnChanges: 'alter-column' | 'modify-column' | 'rebuild-table';
  /**
   * The driver works on an in-memory copy of the file and writes it back
   * (sql.js): long runs such as purge write back every few seconds.
   */
  writesBack: boolean;
  /**
   * A data transaction the server may roll back as a whole for a conflict
   * another node committed (Galera's certification failure): runs it again
   * by the dialect's rules (src/dialects/mysql/galera.ts). Absent: run once.
   * The rolling upgrade's data batches (src/core/rolling-steps.ts) go through it.
   */
  retryConflicts?<T>(run: () => Promise<T>): Promise<T>;
  /** The version table (src/core/driver/version-table.ts). */
  versionTable: {
    /** Type of the columns that hold long text (statement hashes, errors, notes). */
    longText: string;
    /** Appended to CREATE TABLE (engine, character set); '' for none. */
    tableOptions: string;
    /** SELECT of the table's column names, as `name`. */
    columnNamesSql(table: string): string;
  };
  /**
   * Appended to CREATE TABLE so that a table takes part in transactions
   * whatever the server's default storage engine (MySQL: ' ENGINE=InnoDB');
   * '' where every table does.
   */
  transactionalTableOptions: string;
  /** --backup (src/app/backup.ts). */
  backup: {
    /** File extension of a backup. */
    extension: string;
    /** A server's dump tool; null for a file, copied under the migration lock. */
    dump: K extends 'server' ? DumpTool : null;
  };
  /** Restoring a backup by hand (src/app/restore.ts), the way back instead of a downgrade. */
  restore: {
    /** The backup file named in the steps when glance-db knows of none. */
    placeholder: string;
    /** The steps between stopping the application and checking the level. */
    steps(target: DatabaseTarget, file: string): string[];
    /** Said after the step that starts the application again (how the tools get the password); '' for nothing. */
    passwordNote: string;
  };
  /** `plan --output` (src/core/script.ts). */
  script: {
    /** How a DBA runs the script, in its header, for a database of that name. */
    runWith(database: string): string;
    /** The server's clock as ISO 8601 UTC with milliseconds. */
    nowSql: string;
    /** What a SELECT without a table needs after its select list to take a WHERE (MySQL: FROM DUAL). */
    selectWithoutTable: string;
    /**
     * The script's opening: begin its transaction if the dialect has one for
     * it, make the version table, check the starting state (stopping the
     * client before anything changes), record adopted rows.
     */
    opening(p: ScriptGuardParts): string[];
    /** The script's closing lines (commit, drop the guard). */
    closing: string[];
  };
  /** The `glance-db snapshot` command line asks for a scratch database (a server) or makes its own file. */
  snapshotArgs: string;
  /** Imports the driver only when this dialect is used (a SQLite run never loads slonik or mysql2). */
  loadDriver(config: DriverConfig): Promise<Driver>;
  /** Imports the introspector only when this dialect is used. */
  loadIntrospector(): Promise<Introspector>;
}

/** How a server dialect's backups are taken (--backup). */
export interface DumpTool {
  /** Tried in this order on PATH. */
  tools: string[];
  /** The package that brings the tool, for the hint when none is found. */
  clientPackage: string;
  /** The environment variable the tool reads the password from (never on its command line). */
  passwordVariable: string;
  /** The tool's arguments to write a backup of t to its standard output (glance-db's new backup file, src/app/backup.ts); tool is its path. TLS as the run's own connections (src/platform/tls.ts). */
  args(t: ServerTarget, tool: string): string[];
  /** Variables for the tool's environment besides the password (TLS, for libpq's pg_dump); undefined removes one inherited. */
  env?(t: ServerTarget): Record<string, string | undefined>;
}

/** The target of a server dialect's description (a file dialect's functions get a SqliteTarget). */
export function serverTarget(t: DatabaseTarget): ServerTarget {
  if (!('host' in t)) throw new Error(`internal: ${t.dialect} is a server dialect, and its target has no host`);
  return t;
}

export function fileTarget(t: DatabaseTarget): SqliteTarget {
  if (!('path' in t)) throw new Error(`internal: ${t.dialect} is a file dialect, and its target has no path`);
  return t;
}
