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
      `Version ${location.version} failed at ${location.file}:${location.line}:${location.column} ` +
        `(statement ${location.statementIndex + 1}): ${dbMessage}. Statement: ${shown}. ${outcome}`,
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

/**
 * A version's SQL file for this dialect cannot be used: the manifest names
 * none, it is missing or outside the project, unreadable, or binary (exit 3).
 */
export class MigrationFileError extends ConfigError {
  constructor(
    message: string,
    readonly version: number,
    readonly file: string | null,
  ) {
    super(message, { fields: { version, file } });
  }
}

/**
 * A version file holds transaction control (BEGIN, COMMIT, ROLLBACK,
 * SAVEPOINT, SET autocommit, ...; MySQL's LOCK TABLES): glance-db runs each
 * version in a transaction of its own, which such a statement would end part
 * way (exit 3; lint, sync, plan, before anything runs).
 */
export class TransactionControlError extends ConfigError {
  constructor(
    readonly version: number,
    readonly file: string,
    readonly line: number,
    readonly statement: string,
    what: string,
  ) {
    const shown = statement.length > 200 ? `${statement.slice(0, 200)} ...` : statement;
    super(
      `${file}:${line} (version ${version}) holds ${what}, which a version file may not hold: glance-db runs each version in a transaction of its own ` +
        `(on MySQL with its progress recorded after every statement), and a statement that begins, ends or changes transactions, or locks tables for the session, ` +
        `would commit part of the version behind glance-db's back. Statement: ${shown}. Nothing was changed.`,
      {
        fields: { version, file, line, statement },
        hint: `Remove it (and the statement that pairs with it): the file holds plain statements only. If version ${version} already ran on a database, glance-db repair --accept-checksum ${version} records the edited file there.`,
      },
    );
  }
}

/** sql/checksums.lock is malformed or was edited by hand: lint cannot trust it (exit 4, as for a changed released file). */
export class LockFileError extends GlanceDbError {
  constructor(message: string) {
    super('CHECKSUM_MISMATCH', message, {
      hint: 'Restore sql/checksums.lock from version control (git checkout sql/checksums.lock); only glance-db lint --update writes it.',
    });
  }
}

/** sql/checksums.lock exists but cannot be read (exit 3). */
export class LockFileUnreadableError extends ConfigError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Cannot read ${path}: ${reason}.`, { fields: { path } });
  }
}

/** A released file's checksum differs from the one in sql/checksums.lock, or in REF's with lint --base (exit 4). */
export class ReleasedFileChangedError extends GlanceDbError {
  constructor(
    readonly changed: { version: number; dialect: string; file: string; checksum: string; locked: string }[],
    base?: string,
  ) {
    super(
      'CHECKSUM_MISMATCH',
      `Released migration file(s) changed: ${changed.map((e) => `${e.file} (version ${e.version}: locked ${e.locked}${base ? ` at ${base}` : ''}, now ${e.checksum})`).join('; ')}.`,
      {
        fields: { changed, ...(base ? { base } : {}) },
        hint:
          'Restore the released file(s) and put the change in a new version; --update never rewrites a released checksum. ' +
          'Only a security fix that must change what databases still to be upgraded run may change a released file: glance-db lint --update --supersede VERSION records it (docs/guide/lint-and-checksums.md).',
      },
    );
  }
}

/** lint --base REF: files of versions REF has not released (drafts) changed since the lock recorded them (exit 3, as for a new file). */
export class DraftsNotRecordedError extends ConfigError {
  /** "52 sqlite" (or "52 sqlite (removed)") for each. */
  constructor(
    readonly drafts: string[],
    readonly base?: string,
  ) {
    super(
      `Draft version file(s) changed since sql/checksums.lock recorded them: ${drafts.join(', ')}${base ? ` (not released at ${base})` : ''}.`,
      {
        fields: { drafts, ...(base ? { base } : {}) },
        hint: `Run glance-db lint --update${base ? ` --base ${base}` : ''} and commit sql/checksums.lock with them.`,
      },
    );
  }
}

/** sql/checksums.lock lists versions the manifest no longer has (exit 4). */
export class ReleasedVersionRemovedError extends GlanceDbError {
  constructor(readonly removed: { version: number; dialect: string; phase?: string }[]) {
    super(
      'CHECKSUM_MISMATCH',
      `Released version(s) removed from the manifest: ${removed.map((e) => `${e.version} (${e.dialect}${e.phase ? ` ${e.phase}` : ''})`).join(', ')}.`,
      {
        fields: {
          removed: removed.map((e) => ({
            version: e.version,
            dialect: e.dialect,
            ...(e.phase ? { phase: e.phase } : {}),
          })),
        },
        hint: 'Released versions stay: databases in the field record them.',
      },
    );
  }
}

/** Version files that sql/checksums.lock does not record yet, without lint --update (exit 3). */
export class VersionsNotLockedError extends ConfigError {
  /** "52 sqlite" (or "45 sqlite expand") for each. */
  constructor(readonly added: string[]) {
    super(`New version file(s) not yet in sql/checksums.lock: ${added.join(', ')}.`, {
      fields: { added },
      hint: 'Run glance-db lint --update and commit sql/checksums.lock with them.',
    });
  }
}

/** A partly applied version (MySQL) cannot resume: a statement that already ran has changed in the file (exit 4). */
export class ResumeStatementChangedError extends GlanceDbError {
  constructor(
    readonly version: number,
    readonly file: string,
    readonly statementIndex: number,
    readonly applied: number,
    total: number,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'CHECKSUM_MISMATCH',
      `Version ${version} was partly applied (${applied} of ${total} statements), and statement ${statementIndex + 1} of ${file} has changed since it ran ` +
        `(hash ${expected} then, ${actual} now). glance-db will not resume over changed statements. Nothing was changed.`,
      {
        fields: { version, file, statementIndex, expected, actual },
        hint: `Restore statements 1 to ${applied} of ${file} to what ran; only the failed statement and those after it may be fixed.`,
      },
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

/** --backup was asked for and could not be taken; nothing was changed (exit 15). */
export class BackupFailedError extends GlanceDbError {
  constructor(message: string, opts: { fields?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super('BACKUP_FAILED', message, opts);
  }
}

/** None of the dump tools a server's backup needs is on PATH. */
export class BackupToolMissingError extends BackupFailedError {
  constructor(
    readonly tools: string[],
    readonly clientPackage: string,
  ) {
    super(`--backup needs ${tools.join(' or ')} on PATH, and none was found. Nothing was changed.`, {
      fields: { tools },
      hint: `Install the ${clientPackage} package, or take the backup yourself and run without --backup.`,
    });
  }
}

/** The dump tool was found but could not be started. */
export class BackupToolStartError extends BackupFailedError {
  constructor(
    readonly tool: string,
    readonly reason: string,
  ) {
    super(`${tool} could not start: ${reason}. Nothing was changed.`, { fields: { tool } });
  }
}

/** The dump tool ran and failed; detail is the end of its stderr, password removed by the caller. */
export class BackupToolFailedError extends BackupFailedError {
  constructor(
    readonly tool: string,
    readonly toolExit: number | null,
    detail: string,
  ) {
    super(`${tool} failed (exit ${toolExit}): ${detail}. Nothing was changed.`, { fields: { tool, toolExit } });
  }
}

/** The backup file or its folder could not be written (SQLite copy). */
export class BackupWriteError extends BackupFailedError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`--backup could not write ${path}: ${reason}. Nothing was changed.`, {
      fields: { path },
      hint: 'Choose another folder with --backup-dir, or free space there, and run glance-db again.',
    });
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
