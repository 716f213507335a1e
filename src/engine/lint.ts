// `lint`, offline, for pull requests: the manifest loads (schema, files,
// references), every file splits into statements, and no released file has
// changed against sql/checksums.lock. Editing a released migration fails;
// a new version fails until `glance-db lint --update` records it, so the
// lock change shows in the pull request.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { GlanceDbError, LockFileError, OutputError } from '../errors.js';
import { reasonOf, writeOutputFile } from '../util/output.js';
import { PHASES, type Manifest, type Phase } from '../manifest/types.js';
import { readMigrationFile, statementsOf } from './files.js';
import { expectedSchema } from '../introspect/snapshot.js';

export interface LockEntry {
  version: number;
  dialect: string;
  /** A rolling upgrade's phase file; absent for the whole file. */
  phase?: Phase;
  file: string;
  checksum: string;
}

export const lockPath = (m: Manifest) => join(m.dir, 'sql', 'checksums.lock');

/** Every file of every version: the whole file per dialect, then each phase file (rolling: phased). */
export function currentEntries(m: Manifest): LockEntry[] {
  return m.migrations.flatMap((mig) =>
    [undefined, ...PHASES.filter((p) => mig.phases?.[p])].flatMap((phase) =>
      m.dialects.map((d) => {
        const loaded = readMigrationFile(m, mig, d, phase);
        statementsOf(loaded, d, mig.version);
        return { version: mig.version, dialect: d, ...(phase ? { phase } : {}), file: loaded.file, checksum: loaded.checksum };
      })),
  );
}

/** "45 mysql", or for a phase file "45 mysql expand": also how messages name an entry. */
const key = (e: Pick<LockEntry, 'version' | 'dialect' | 'phase'>) => `${e.version} ${e.dialect}${e.phase ? ` ${e.phase}` : ''}`;

/** VERSION DIALECT [PHASE] FILE CHECKSUM: the phase word only on a phase file's line, so older locks read unchanged. */
const ENTRY = /^(\d{3,}) ([a-z][a-z0-9]*)(?: (expand|migrate|contract))? (\S+) (sha256-lf:[0-9a-f]{64})$/;
const SUM = /^sum (sha256:[0-9a-f]{64})$/;

/** The sum line's value: SHA-256 over the entry lines, in file order (Atlas's atlas.sum does the same). */
const sumOf = (lines: string[]) => `sha256:${createHash('sha256').update(lines.map((l) => `${l}\n`).join('')).digest('hex')}`;

/**
 * Reads sql/checksums.lock. Every line is a comment, the sum line, or an
 * entry; anything else, a missing sum or a sum that does not match the
 * entries (a hand edit) is refused rather than skipped, so a released
 * version can never quietly turn "new" and be re-recorded by --update.
 */
export function readLock(m: Manifest): Map<string, LockEntry> {
  const map = new Map<string, LockEntry>();
  const path = lockPath(m);
  if (!existsSync(path)) return map;
  const label = 'sql/checksums.lock';
  const entryLines: string[] = [];
  let sum: string | null = null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GlanceDbError('CONFIG', `Cannot read ${path}: ${reasonOf(err)}.`);
  }
  text.replace(/\r\n/g, '\n').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const s = SUM.exec(line);
    if (s) {
      if (sum !== null) throw new LockFileError(`${label}:${i + 1}: a second sum line.`);
      sum = s[1];
      return;
    }
    const e = ENTRY.exec(line);
    if (!e) throw new LockFileError(`${label}:${i + 1}: not an entry ("VERSION DIALECT [PHASE] FILE sha256-lf:HEX") nor the sum line: ${JSON.stringify(line.slice(0, 120))}.`);
    const entry: LockEntry = { version: Number(e[1]), dialect: e[2], ...(e[3] ? { phase: e[3] as Phase } : {}), file: e[4], checksum: e[5] };
    if (map.has(key(entry))) throw new LockFileError(`${label}:${i + 1}: version ${entry.version} (${entry.dialect}${entry.phase ? ` ${entry.phase}` : ''}) is listed twice.`);
    map.set(key(entry), entry);
    entryLines.push(line);
  });
  if (sum === null) throw new LockFileError(`${label} has no sum line, so a hand edit could not be told from a release.`);
  if (sum !== sumOf(entryLines)) throw new LockFileError(`${label} was edited by hand: its entries do not match its sum line.`);
  return map;
}

export function writeLock(m: Manifest, entries: LockEntry[]): void {
  const header = '# glance-db checksums.lock: the checksum of every released migration file.\n# A released file must never change. Regenerate only to add versions: glance-db lint --update\n# The sum line covers every entry line below it; a hand edit fails lint.\n';
  const lines = entries.map((e) => `${String(e.version).padStart(3, '0')} ${e.dialect}${e.phase ? ` ${e.phase}` : ''} ${e.file} ${e.checksum}`);
  const path = lockPath(m);
  // Root may write any file: a lock file without write permission is read-only on purpose, so it is refused, not replaced.
  try {
    if ((statSync(path).mode & 0o222) === 0) throw new OutputError(`Cannot update ${path}: it is read-only. Nothing was written.`, 'Make it writable (chmod u+w) if the new versions are meant to be recorded.');
  } catch (err) {
    if (err instanceof OutputError) throw err;
  }
  writeOutputFile(path, `${header}sum ${sumOf(lines)}\n${lines.join('\n')}\n`, 'the checksum lock', 'Check the permissions of sql/ and sql/checksums.lock.');
}

export interface LintResult {
  files: number;
  versions: number;
  added: string[];
  /** "52 sqlite": versions with no expected schema, next to the manifest or installed (glance-db snapshot makes them). */
  noExpectedSchema: string[];
}

/** Throws on the first class of problem found; returns what was checked. */
export function lint(m: Manifest, update: boolean): LintResult {
  const entries = currentEntries(m);
  const lock = readLock(m);
  const changed = entries.filter((e) => lock.has(key(e)) && lock.get(key(e))!.checksum !== e.checksum);
  if (changed.length > 0) {
    throw new GlanceDbError('CHECKSUM_MISMATCH',
      `Released migration file(s) changed: ${changed.map((e) => `${e.file} (version ${e.version}: locked ${lock.get(key(e))!.checksum}, now ${e.checksum})`).join('; ')}.`,
      { fields: { changed }, hint: 'Restore the released file(s) and put the change in a new version; --update never rewrites a released checksum.' });
  }
  const removed = [...lock.values()].filter((l) => !entries.some((e) => key(e) === key(l)));
  if (removed.length > 0) {
    throw new GlanceDbError('CHECKSUM_MISMATCH', `Released version(s) removed from the manifest: ${removed.map((e) => `${e.version} (${e.dialect}${e.phase ? ` ${e.phase}` : ''})`).join(', ')}.`,
      { hint: 'Released versions stay: databases in the field record them.' });
  }
  const added = entries.filter((e) => !lock.has(key(e))).map(key);
  if (added.length > 0 && !update) {
    throw new GlanceDbError('CONFIG', `New version file(s) not yet in sql/checksums.lock: ${added.join(', ')}.`, { hint: 'Run glance-db lint --update and commit sql/checksums.lock with them.' });
  }
  if (update && added.length > 0) writeLock(m, entries);
  const noExpectedSchema = m.migrations.flatMap((mig) => m.dialects.filter((d) => !expectedSchema(m, d, mig.version)).map((d) => `${mig.version} ${d}`));
  return { files: entries.length, versions: m.migrations.length, added: update ? added : [], noExpectedSchema };
}
