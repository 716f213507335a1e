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
  REPAIR_REFUSED: 24,
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
