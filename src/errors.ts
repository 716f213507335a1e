// One base error with a stable exit code and a machine-readable code, and a
// subclass per failure an operator can act on. Messages are one paragraph and
// never carry a password: URLs reach them only through redactUrl().

/** Exit codes are part of the interface (README "Exit codes"): never renumber. */
export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  CONFIG: 3,
  CHECKSUM_MISMATCH: 4,
  NOT_UNDER_VERSION_CONTROL: 5,
  DOWNGRADE_REFUSED: 6,
  MIGRATION_FAILED: 7,
  LOCKED: 8,
  CONNECTION: 9,
  CONFLICT: 10,
  UNKNOWN_VERSION: 11,
  SCHEMA_DRIFT: 12,
  UPGRADE_PENDING: 13,
  PARTLY_APPLIED: 14,
  BACKUP_FAILED: 15,
  HISTORY_GAP: 16,
  /** Not enough free space on the SQLite file's volume for the write-back; nothing changed. */
  NO_SPACE: 17,
  CONNECTION_LOST: 18,
  LOCK_LOST: 19,
  /** The SQLite file or its folder is refused for safety or type (not a regular file, hard link, read-only, unsafe folder, planted link). */
  FILE_REFUSED: 20,
  /** The SQLite file needs a real SQLite first (WAL or hot journal beside it) or is not a usable SQLite database (corrupt, truncated). */
  SQLITE_UNUSABLE: 21,
  INTERRUPTED: 22,
  REPAIR_REFUSED: 24,
  METADEFS_INVALID: 28,
  DATA_FAILED: 29,
  /** A pre-flight check refused the server (Galera node not ready, RSU, a setting a pending version needs). */
  PREFLIGHT: 32,
  OUTPUT_NOT_WRITABLE: 34,
  /** A rolling-upgrade phase asked for out of order (migrate or contract before expand, contract before migrate); nothing changed. */
  ROLLING_ORDER: 35,
  /** `db check`: a state glance-manage's exit codes (0, 3, 4, 5) cannot express; glance-db check names it. */
  DB_CHECK_OTHER: 36,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export class GlanceDbError extends Error {
  readonly code: ExitCodeName;
  /** Extra structured fields for --json output. */
  readonly fields: Record<string, unknown>;
  /** Advice printed after the message. */
  readonly hint?: string;

  constructor(code: ExitCodeName, message: string, opts: { cause?: unknown; fields?: Record<string, unknown>; hint?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.fields = opts.fields ?? {};
    this.hint = opts.hint;
  }

  get exitCode(): number {
    return ExitCode[this.code];
  }
}

export class UsageError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('USAGE', message, { hint });
  }
}

export class ConfigError extends GlanceDbError {
  constructor(message: string, opts: { fields?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super('CONFIG', message, opts);
  }
}

export class ChecksumMismatchError extends GlanceDbError {
  constructor(readonly version: number, readonly file: string, readonly expected: string, readonly actual: string) {
    super(
      'CHECKSUM_MISMATCH',
      `Checksum mismatch for version ${version}: ${file} was applied with checksum ${expected}, but the file on disk now has ${actual}. ` +
        'Nothing was changed.',
      {
        fields: { version, file, expected, actual },
        hint:
          'A released migration must never be edited: restore the file to the content that was applied (git checkout/log on that file), ' +
          'and put any new change in a new version.',
      },
    );
  }
}

export class NotUnderVersionControlError extends GlanceDbError {
  constructor(database: string, hint: string, extra = '') {
    super('NOT_UNDER_VERSION_CONTROL', `The database ${database} is not under glance-db version control.${extra}`, {
      fields: { database },
      hint,
    });
  }
}

export class DowngradeRefusedError extends GlanceDbError {
  constructor(message: string, readonly restoreSteps: string[]) {
    super('DOWNGRADE_REFUSED', message, { fields: { restoreSteps } });
  }
}

export interface SqlErrorLocation {
  version: number;
  file: string;
  line: number;
  column: number;
  statementIndex: number;
  statement: string;
}

export class MigrationFailedError extends GlanceDbError {
  constructor(readonly location: SqlErrorLocation, dbMessage: string, outcome: string, cause?: unknown) {
    const shown = location.statement.length > 400 ? `${location.statement.slice(0, 400)} ...` : location.statement;
    super(
      'MIGRATION_FAILED',
      `Version ${location.version} failed at ${location.file}:${location.line}:${location.column} ` +
        `(statement ${location.statementIndex + 1}): ${dbMessage}. Statement: ${shown}. ${outcome}`,
      { cause, fields: { ...location, databaseMessage: dbMessage } },
    );
  }
}

export class LockedError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('LOCKED', message, { hint });
  }
}

export class ConnectionError extends GlanceDbError {
  constructor(message: string, opts: { cause?: unknown; hint?: string } = {}) {
    super('CONNECTION', message, opts);
  }
}

export class ConflictError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('CONFLICT', message, { hint });
  }
}

export class UnknownVersionError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('UNKNOWN_VERSION', message, { hint });
  }
}

/** sql/checksums.lock is malformed or was edited by hand: lint cannot trust it (exit 4, as for a changed released file). */
export class LockFileError extends GlanceDbError {
  constructor(message: string) {
    super('CHECKSUM_MISMATCH', message, { hint: 'Restore sql/checksums.lock from version control (git checkout sql/checksums.lock); only glance-db lint --update writes it.' });
  }
}

/** A metadata definitions document is missing, unreadable or not a valid namespace document (exit 28). */
export class MetadefsInvalidError extends GlanceDbError {
  constructor(message: string, opts: { fields?: Record<string, unknown>; hint?: string } = {}) {
    super('METADEFS_INVALID', message, opts);
  }
}

/** A metadefs or purge statement failed in the database; its transaction rolled back (exit 29). */
export class DataFailedError extends GlanceDbError {
  constructor(message: string, opts: { cause?: unknown; fields?: Record<string, unknown>; hint?: string } = {}) {
    super('DATA_FAILED', message, opts);
  }
}

export class NoSpaceError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('NO_SPACE', message, { hint });
  }
}

export class FileRefusedError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('FILE_REFUSED', message, { hint });
  }
}

export class SqliteUnusableError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('SQLITE_UNUSABLE', message, { hint });
  }
}

/** A file glance-db was asked to write (plan --output, lint --update, a --backup-dir) cannot be written; nothing was changed. */
export class OutputError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('OUTPUT_NOT_WRITABLE', message, { hint });
  }
}

/** The connection broke or went silent mid-run (reset, server gone, network partition): the run stopped. */
export class ConnectionLostError extends GlanceDbError {
  constructor(message: string, opts: { cause?: unknown; hint?: string } = {}) {
    super('CONNECTION_LOST', message, opts);
  }
}

/** Another run took over the migration lock while this one was paused: this run stopped, changing nothing more. */
export class LockLostError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('LOCK_LOST', message, { hint });
  }
}

/** SIGINT/SIGTERM: the statement running on the server was cancelled and the connection closed. */
export class InterruptedError extends GlanceDbError {
  constructor(message: string, hint?: string) {
    super('INTERRUPTED', message, { hint });
  }
}

/** The version table lacks a version below its recorded level (a row deleted or edited by hand). */
export class HistoryGapError extends GlanceDbError {
  constructor(database: string, readonly gaps: number[], current: number, repair = 'glance-db repair') {
    super('HISTORY_GAP',
      `The version table of ${database} has no complete row for version${gaps.length > 1 ? 's' : ''} ${gaps.join(', ')}, below its recorded level ${current}: ` +
        'rows were deleted or changed by hand. glance-db will not run old SQL to fill the gap. Nothing was changed.',
      { fields: { gaps, current },
        hint: `${repair} compares the live schema with each version and re-records the missing rows when the schema shows they ran (add --dry-run to see what it would do first).` });
  }
}
