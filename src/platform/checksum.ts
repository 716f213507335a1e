// Checksums of migration files. The normalisation is chosen once and named by
// the prefix stored with every checksum (Liquibase "9:", Atlas "h1:"), so a
// later algorithm can coexist instead of invalidating installed databases
// (Liquibase 4.22). CRLF and LF checkouts of the same file hash alike
// (Flyway issue 253); a UTF-8 BOM is dropped.
import { createHash } from 'node:crypto';

export const CHECKSUM_PREFIX = 'sha256-lf:';

/** The text a checksum is computed over, and the text that is executed. */
export function normalizeSql(raw: Buffer | string): string {
  let text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.replace(/\r\n/g, '\n');
}

export function checksumOf(raw: Buffer | string): string {
  return CHECKSUM_PREFIX + createHash('sha256').update(normalizeSql(raw), 'utf8').digest('hex');
}

/** Short hash of one statement, recorded per applied statement for resumable MySQL versions. */
export function statementHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}
