// `lint`, offline, for pull requests: the manifest loads (schema, files,
// references), every file splits into statements, and no released file has
// changed against sql/checksums.lock. Editing a released migration fails;
// a new version fails until `glance-db lint --update` records it, so the
// lock change shows in the pull request.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GlanceDbError } from '../errors.js';
import type { Manifest } from '../manifest/types.js';
import { readMigrationFile, statementsOf } from './files.js';
import { expectedSchema } from '../introspect/snapshot.js';

export interface LockEntry {
  version: number;
  dialect: string;
  file: string;
  checksum: string;
}

export const lockPath = (m: Manifest) => join(m.dir, 'sql', 'checksums.lock');

export function currentEntries(m: Manifest): LockEntry[] {
  return m.migrations.flatMap((mig) =>
    m.dialects.map((d) => {
      const loaded = readMigrationFile(m, mig, d);
      statementsOf(loaded, d, mig.version);
      return { version: mig.version, dialect: d, file: loaded.file, checksum: loaded.checksum };
    }),
  );
}

const key = (e: Pick<LockEntry, 'version' | 'dialect'>) => `${e.version} ${e.dialect}`;

export function readLock(m: Manifest): Map<string, LockEntry> {
  const map = new Map<string, LockEntry>();
  if (!existsSync(lockPath(m))) return map;
  for (const line of readFileSync(lockPath(m), 'utf8').split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (!line.trim() || line.startsWith('#') || parts.length !== 4) continue;
    const e = { version: Number(parts[0]), dialect: parts[1], file: parts[2], checksum: parts[3] };
    map.set(key(e), e);
  }
  return map;
}

export function writeLock(m: Manifest, entries: LockEntry[]): void {
  const header = '# glance-db checksums.lock: the checksum of every released migration file.\n# A released file must never change. Regenerate only to add versions: glance-db lint --update\n';
  const lines = entries.map((e) => `${String(e.version).padStart(3, '0')} ${e.dialect} ${e.file} ${e.checksum}`);
  writeFileSync(lockPath(m), `${header}${lines.join('\n')}\n`);
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
    throw new GlanceDbError('CHECKSUM_MISMATCH', `Released version(s) removed from the manifest: ${removed.map((e) => `${e.version} (${e.dialect})`).join(', ')}.`,
      { hint: 'Released versions stay: databases in the field record them.' });
  }
  const added = entries.filter((e) => !lock.has(key(e))).map((e) => `${e.version} ${e.dialect}`);
  if (added.length > 0 && !update) {
    throw new GlanceDbError('CONFIG', `New version file(s) not yet in sql/checksums.lock: ${added.join(', ')}.`, { hint: 'Run glance-db lint --update and commit sql/checksums.lock with them.' });
  }
  if (update && added.length > 0) writeLock(m, entries);
  const noExpectedSchema = m.migrations.flatMap((mig) => m.dialects.filter((d) => !expectedSchema(m, d, mig.version)).map((d) => `${mig.version} ${d}`));
  return { files: entries.length, versions: m.migrations.length, added: update ? added : [], noExpectedSchema };
}
