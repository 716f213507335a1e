// The errors of a project's files: a version's SQL file that cannot be used,
// a transaction statement in it, checksums.lock and the released files it
// records (glance-db lint), and a resumed version whose statements changed.
// The base classes and the exit codes: src/platform/errors.ts.
import { ConfigError, GlanceDbError } from './errors.js';

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
