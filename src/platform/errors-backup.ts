// The errors of --backup: the dump tool is missing, does not start, fails, or
// its output cannot be written; nothing was changed (exit 15).
import { GlanceDbError } from './errors.js';

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
