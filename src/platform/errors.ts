// One base error with a stable exit code and a machine-readable code, and a
// subclass per failure an operator can act on. Messages are one paragraph and
// never carry a password: URLs reach them only through redactUrl().
// A condition gets its own class, with the facts it carries as typed fields
// (also in --json's error object), so callers tell conditions apart by class
// and never by parsing a message.
import { differenceOf, type Difference } from './difference.js';

// The numbers, names and meanings are one table, src/platform/exit-codes.ts (never renumber).
import { ExitCode, type ExitCodeName } from './exit-codes.js';
export { ExitCode, type ExitCodeName };

export class GlanceDbError extends Error {
  readonly code: ExitCodeName;
  /** Extra structured fields for --json output. */
  readonly fields: Record<string, unknown>;
  /** Advice printed after the message. */
  readonly hint?: string;

  constructor(
    code: ExitCodeName,
    message: string,
    opts: { cause?: unknown; fields?: Record<string, unknown>; hint?: string } = {},
  ) {
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
  constructor(
    readonly version: number,
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
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
  constructor(
    message: string,
    readonly restoreSteps: string[],
  ) {
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
  /** A statement computed, not read from `file` (line and column are not a place in it): what it is. */
  computed?: string;
}

/** A file's line and column, or, for a computed statement, what it is (no file line). */
function where(l: SqlErrorLocation): string {
  if (l.computed) return `statement ${l.statementIndex + 1} of ${l.computed}`;
  return `${l.file}:${l.line}:${l.column} (statement ${l.statementIndex + 1})`;
}

export class MigrationFailedError extends GlanceDbError {
  constructor(
    readonly location: SqlErrorLocation,
    dbMessage: string,
    outcome: string,
    cause?: unknown,
  ) {
    const shown = location.statement.length > 400 ? `${location.statement.slice(0, 400)} ...` : location.statement;
    super(
      'MIGRATION_FAILED',
      `Version ${location.version} failed at ${where(location)}: ${dbMessage}. Statement: ${shown}. ${outcome}`,
      { cause, fields: { ...location, databaseMessage: dbMessage } },
    );
  }
}

export class LockedError extends GlanceDbError {
  constructor(message: string, hint?: string, fields?: Record<string, unknown>) {
    super('LOCKED', message, { hint, fields });
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
  constructor(message: string, hint?: string, fields?: Record<string, unknown>) {
    super('UNKNOWN_VERSION', message, { hint, fields });
  }
}

/** alembic_version holds a revision glance-db does not know: newer than it, or not Glance's (exit 11). */
export class UnknownRevisionError extends UnknownVersionError {
  constructor(
    readonly revision: string,
    readonly newestKnown: string,
  ) {
    super(
      `alembic_version holds revision "${revision}", which glance-db does not know: it is newer than ${newestKnown}, or not a Glance revision. Nothing was changed.`,
      'If a newer Glance upgraded this database, use a glance-db release that knows that revision.',
      { revision, newestKnown },
    );
  }
}

/** migrate_version holds a number below glance-db's baseline: the database predates Liberty (exit 11). */
export class BeforeBaselineError extends UnknownVersionError {
  constructor(
    readonly legacyVersion: number,
    readonly baseline: number,
  ) {
    super(
      `migrate_version says ${legacyVersion}, which predates glance-db's baseline (${baseline}, Glance Liberty). Nothing was changed.`,
      "First bring the database to Liberty with that release's tooling: glance-manage db sync from Glance 11.0 (Liberty), then run glance-db sync.",
      { legacyVersion, baseline },
    );
  }
}

/** migrate_version holds a number the legacy numbering never reached (exit 11). */
export class UnknownLegacyVersionError extends UnknownVersionError {
  constructor(
    readonly legacyVersion: number,
    readonly lastLegacy: number,
  ) {
    super(
      `migrate_version says ${legacyVersion}; the legacy numbering never went past ${lastLegacy}, so glance-db does not know what this database is. Nothing was changed.`,
      undefined,
      { legacyVersion, lastLegacy },
    );
  }
}

/** The schema is not the one its version (or Glance's own bookkeeping) claims, and drift was not accepted (exit 12). */
export class SchemaDriftError extends GlanceDbError {
  readonly differences: Difference[];

  constructor(message: string, differences: (string | Difference)[], hint: string) {
    const objects = differences.map(differenceOf);
    const texts = objects.map((x) => x.text);
    super(
      'SCHEMA_DRIFT',
      `${message} Differences: ${texts.slice(0, 20).join('; ')}${texts.length > 20 ? `; and ${texts.length - 20} more` : ''}.`,
      { fields: { differences: objects }, hint },
    );
    this.differences = objects;
  }
}

/** A data command (metadefs, purge) found a partly applied version (MySQL: a version stopped part way): the tables may be half changed (exit 14). */
export class PartlyAppliedError extends GlanceDbError {
  constructor(
    readonly version: number,
    readonly statementsApplied: number,
    readonly statementsTotal: number,
    command: string,
  ) {
    super(
      'PARTLY_APPLIED',
      `Version ${version} is partly applied (${statementsApplied} of ${statementsTotal} statements), so the tables ${command} works on may be half changed; ${command} refuses it. Nothing was changed.`,
      {
        fields: { version },
        hint: 'Fix the cause of the failed version and run glance-db sync (or glance-db repair): it resumes where it stopped; then run the command again.',
      },
    );
  }
}

/**
 * A data command refused while a rolling upgrade is open where it could race
 * the data migration (purge), or where a pending data step rewrites the rows
 * it works on (metadefs before 44's migrate) (exit 13, as check says for an
 * open rolling upgrade).
 */
export class RollingWindowError extends GlanceDbError {
  constructor(message: string, hint: string, fields: Record<string, unknown> = {}) {
    super('UPGRADE_PENDING', `${message} Nothing was changed.`, { fields, hint });
  }
}

/** A data command found Glance's tables it works on missing (exit 12). */
export class DataTablesMissingError extends GlanceDbError {
  constructor(
    readonly missing: string[],
    command: string,
    database: string,
  ) {
    super(
      'SCHEMA_DRIFT',
      `${command} works on ${missing.length === 1 ? 'table' : 'tables'} ${missing.join(', ')}, which ${database} does not have: its schema is not the one its version claims. Nothing was changed.`,
      {
        fields: { missing },
        hint: 'glance-db verify (or glance-db check) shows how the schema differs from its version.',
      },
    );
  }
}

/** sync --dry-run refuses what sync would refuse, with the exit code check gives for it. */
export class DryRunRefusedError extends GlanceDbError {
  constructor(code: ExitCodeName, line: string) {
    super(code, `${line}. Nothing was changed (dry run).`, {
      hint: 'sync would refuse the same way: glance-db check says more.',
    });
  }
}

/** The server refused one of glance-db's statements for lack of a privilege (exit 37): not a bug, the URL's user. */
export class PrivilegeError extends GlanceDbError {
  constructor(reason: string, cause: unknown) {
    super('PRIVILEGE', `The database server refused a statement for lack of a privilege: ${reason}.`, {
      cause,
      hint:
        "Run glance-db as a database user with the privileges glance-manage needs (all privileges on Glance's database; " +
        "read-only commands need SELECT on Glance's tables and glance_db_version), or grant them to this user.",
    });
  }
}

/** Anything that is not a GlanceDbError reaching the top: a bug (exit 1). */
export class InternalError extends GlanceDbError {
  constructor(cause: Error) {
    super('INTERNAL', `Unexpected internal error: ${cause.message}`, {
      cause,
      hint: 'This is a bug in glance-db; rerun with GLANCE_DB_DEBUG=1 for the stack trace and report it.',
    });
  }
}

/** A metadata definitions document is missing, unreadable, not a valid namespace document, or holds a value the database cannot store as written (exit 28). */
export class MetadefsInvalidError extends GlanceDbError {
  constructor(message: string, opts: { fields?: Record<string, unknown>; hint?: string } = {}) {
    super('METADEFS_INVALID', message, opts);
  }
}

/** A metadefs or purge statement failed in the database; its transaction rolled back (the whole load; one purge batch) (exit 29). */
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

const TRANSIENT_MEANING: Record<number, string> = {
  1213: 'a deadlock, or a lost Galera certification',
  1205: 'lock wait timeout',
  1047: 'the Galera node is not ready',
};

/**
 * The migration lock's own statements kept failing with a transient error
 * (deadlock, lost Galera certification, lock wait timeout, node not ready)
 * after every retry: the lock was not taken or not kept (exit 8, as for a lock held too long).
 */
export class LockBookkeepingError extends LockedError {
  constructor(
    readonly table: string,
    readonly step: string,
    readonly errno: number,
    readonly attempts: number,
    serverMessage: string,
  ) {
    super(
      `The migration lock's own statements (table ${table}) kept failing: "${step}" got error ${errno} (${TRANSIENT_MEANING[errno] ?? 'transient'}) ${attempts} times in a row: ${serverMessage.split('\n')[0]}. ` +
        'Nothing was changed by this run.',
      'Many runs started at once against a busy server or cluster: run glance-db again (one run is enough; the others find the database current). On Galera, check that every node is Synced.',
      { step, errno, attempts },
    );
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
  constructor(
    database: string,
    readonly gaps: number[],
    current: number,
    repair = 'glance-db repair',
  ) {
    super(
      'HISTORY_GAP',
      `The version table of ${database} has no complete row for version${gaps.length > 1 ? 's' : ''} ${gaps.join(', ')}, below its recorded level ${current}: ` +
        'rows were deleted or changed by hand. glance-db will not run old SQL to fill the gap. Nothing was changed.',
      {
        fields: { gaps, current },
        hint: `${repair} compares the live schema with each version and re-records the missing rows when the schema shows they ran (add --dry-run to see what it would do first).`,
      },
    );
  }
}
