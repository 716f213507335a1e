// Turns a database error inside a statement into MigrationFailedError with
// file:line:column. Servers that report a character position inside the
// statement (PostgreSQL) get the exact spot; others get the statement start.
import { MigrationFailedError } from '../errors.js';
import type { Statement } from '../sql/split.js';
import type { PendingVersion } from './driver.js';

/** 1-based line/column in the file of a 1-based character position inside the statement. */
export function positionInFile(s: Statement, position?: number): { line: number; column: number } {
  if (!position || position < 1) return { line: s.line, column: s.column };
  const before = s.text.slice(0, position - 1);
  const lines = before.split('\n');
  if (lines.length === 1) return { line: s.line, column: s.column + before.length };
  return { line: s.line + lines.length - 1, column: lines[lines.length - 1].length + 1 };
}

export function statementFailed(p: PendingVersion, s: Statement, err: unknown, outcome: string, position?: number): MigrationFailedError {
  const { line, column } = positionInFile(s, position);
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0];
  return new MigrationFailedError(
    { version: p.version, file: p.file, line, column, statementIndex: s.index, statement: s.text },
    message,
    outcome,
    err,
  );
}
