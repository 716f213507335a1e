// MySQL commits DDL implicitly, so a failed version can be left partly
// applied. Its row records how many statements ran and a hash of each; a
// later run resumes after them, but only if their text is unchanged (the
// operator may fix the failing statement and what follows, nothing before).
import { statementHash } from '../checksum.js';
import { GlanceDbError } from '../errors.js';
import type { VersionRow } from '../drivers/driver.js';
import type { Statement } from '../sql/split.js';

export function resumePoint(row: VersionRow, statements: Statement[], file: string): number {
  const hashes = row.statementHashes ?? [];
  const applied = Math.min(row.statementsApplied, hashes.length);
  for (let i = 0; i < applied; i++) {
    const now = statements[i] ? statementHash(statements[i].text) : '(missing)';
    if (now !== hashes[i]) {
      throw new GlanceDbError('CHECKSUM_MISMATCH',
        `Version ${row.version} was partly applied (${applied} of ${row.statementsTotal} statements), and statement ${i + 1} of ${file} has changed since it ran ` +
          `(hash ${hashes[i]} then, ${now} now). glance-db will not resume over changed statements. Nothing was changed.`,
        { fields: { version: row.version, file, statementIndex: i, expected: hashes[i], actual: now },
          hint: `Restore statements 1 to ${applied} of ${file} to what ran; only the failed statement and those after it may be fixed.` });
    }
  }
  return applied;
}
