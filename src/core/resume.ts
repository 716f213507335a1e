// MySQL commits DDL implicitly, so a failed version can be left partly
// applied. Its row records how many statements ran and a hash of each; a
// later run resumes after them, but only if their text is unchanged (the
// operator may fix the failing statement and what follows, nothing before).
import { statementHash } from '../platform/checksum.js';
import { ResumeStatementChangedError } from '../platform/errors-files.js';
import type { VersionRow } from './driver/driver.js';
import type { Statement } from './sql/split.js';

export function resumePoint(row: VersionRow, statements: Statement[], file: string): number {
  const hashes = row.statementHashes ?? [];
  const applied = Math.min(row.statementsApplied, hashes.length);
  for (let i = 0; i < applied; i++) {
    const now = statements[i] ? statementHash(statements[i].text) : '(missing)';
    if (now !== hashes[i])
      throw new ResumeStatementChangedError(row.version, file, i, applied, row.statementsTotal, hashes[i], now);
  }
  return applied;
}
