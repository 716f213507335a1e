// Turns a database error inside a statement into MigrationFailedError with
// file:line:column. Servers that report a character position inside the
// statement (PostgreSQL) get the exact spot; others get the statement start.
import { MigrationFailedError } from '../../platform/errors.js';
import type { Statement } from './statement.js';

/** 1-based line/column in the file of a 1-based character position inside the statement. */
export function positionInFile(s: Statement, position?: number): { line: number; column: number } {
  if (!position || position < 1) return { line: s.line, column: s.column };
  const before = s.text.slice(0, position - 1);
  const lines = before.split('\n');
  if (lines.length === 1) return { line: s.line, column: s.column + before.length };
  return { line: s.line + lines.length - 1, column: lines[lines.length - 1].length + 1 };
}

export function statementFailed(
  p: { version: number; file: string },
  s: Statement,
  err: unknown,
  outcome: string,
  position?: number,
): MigrationFailedError {
  const { line, column } = positionInFile(s, position);
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0];
  return new MigrationFailedError(
    {
      version: p.version,
      file: p.file,
      line,
      column,
      statementIndex: s.index,
      statement: s.text,
      ...(s.computed ? { computed: s.computed } : {}),
    },
    message,
    outcome,
    err,
  );
}

const LOST_CODES = new Set([
  // Node sockets
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNREFUSED',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'CR_SERVER_GONE_ERROR',
  'CR_SERVER_LOST',
  // PostgreSQL: admin shutdown / terminate, crash shutdown, cannot connect now, idle-session timeouts, connection exceptions
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '25P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);
const LOST_ERRNO = new Set([1053, 1927, 2006, 2013]);
const LOST_TEXT =
  /connection terminated|terminating connection|not queryable|connection lost|closed state|socket hang up|server closed the connection|connection is closed|Connection was killed/i;

/** An error and the errors in its cause chain, outermost first, at most six deep. */
function causeChain(err: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  for (let e = err; e && typeof e === 'object' && chain.length < 6; e = (e as { cause?: unknown }).cause)
    chain.push(e as Record<string, unknown>);
  return chain;
}

/** Whether an error (or one in its cause chain) means the connection to the server is gone, not that a statement failed. */
export function connectionLoss(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (typeof e.code === 'string' && LOST_CODES.has(e.code)) return true;
    if (typeof e.errno === 'number' && LOST_ERRNO.has(e.errno)) return true;
    if (typeof e.message === 'string' && LOST_TEXT.test(e.message)) return true;
    if (
      [
        'BackendTerminatedError',
        'BackendTerminatedUnexpectedlyError',
        'IdleTransactionTimeoutError',
        'SilentConnection',
      ].includes(String((e as { name?: string }).name ?? e.constructor?.name))
    )
      return true;
  }
  return false;
}

/** The first line of the innermost useful message of an error chain. */
export function rootMessage(err: unknown): string {
  let msg = '';
  for (const e of causeChain(err)) if (typeof e.message === 'string' && e.message) msg = e.message;
  return (msg || String(err)).split('\n')[0];
}

/** PostgreSQL's insufficient_privilege; MySQL/MariaDB's access-denied errors on a database, table, column, operation or routine. */
const PRIVILEGE_ERRNO = new Set([1044, 1142, 1143, 1227, 1370]);

/** The server's message when an error (or one in its cause chain) is a refused privilege, else null. */
export function privilegeDenied(err: unknown): string | null {
  for (const e of causeChain(err)) {
    const message = typeof e.message === 'string' ? e.message.split('\n')[0] : '';
    if (e.code === '42501' || (typeof e.errno === 'number' && PRIVILEGE_ERRNO.has(e.errno)))
      return message || String(e.code);
  }
  return null;
}
