// sql/checksums.lock: the checksum of every released migration file, the
// fixes that superseded one (`superseded` lines) and the sum line that
// covers them, read and written here for lint (src/app/lint.ts) and for the
// engine, which accepts a database that ran a superseded file
// (src/core/superseded.ts).
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { OutputError } from '../platform/errors.js';
import { LockFileError, LockFileUnreadableError } from '../platform/errors-files.js';
import { writeOutputFile } from '../platform/output.js';
import { reasonOf } from '../platform/output-place.js';
import type { Manifest, Phase } from './manifest/types.js';

export interface LockEntry {
  version: number;
  dialect: string;
  /** A rolling upgrade's phase file; absent for the whole file. */
  phase?: Phase;
  file: string;
  checksum: string;
}

export const lockPath = (m: Manifest) => join(m.dir, 'sql', 'checksums.lock');

/** "45 mysql", or for a phase file "45 mysql expand": also how messages name an entry. */
export const key = (e: Pick<LockEntry, 'version' | 'dialect' | 'phase'>) =>
  `${e.version} ${e.dialect}${e.phase ? ` ${e.phase}` : ''}`;

/** VERSION DIALECT [PHASE] FILE CHECKSUM: the phase word only on a phase file's line, so older locks read unchanged. */
const ENTRY = /^(\d{3,}) ([a-z][a-z0-9]*)(?: (expand|migrate|contract))? (\S+) (sha256-lf:[0-9a-f]{64})$/;
const SUM = /^sum (sha256:[0-9a-f]{64})$/;
/** superseded VERSION DIALECT [PHASE] OLD by NEW: a fix to a released file (lint --update --supersede). */
const SUPERSEDED =
  /^superseded (\d{3,}) ([a-z][a-z0-9]*)(?: (expand|migrate|contract))? (sha256-lf:[0-9a-f]{64}) by (sha256-lf:[0-9a-f]{64})$/;

/** A released file's checksum that a fix replaced: a database that ran `old` ran a file now superseded by `now`. */
export interface Supersession {
  version: number;
  dialect: string;
  phase?: Phase;
  old: string;
  now: string;
}

export interface Lock {
  entries: Map<string, LockEntry>;
  superseded: Supersession[];
}

const supersededLine = (x: Supersession) =>
  `superseded ${String(x.version).padStart(3, '0')} ${x.dialect}${x.phase ? ` ${x.phase}` : ''} ${x.old} by ${x.now}`;

/** The sum line's value: SHA-256 over the entry lines, in file order (Atlas's atlas.sum does the same). */
const sumOf = (lines: string[]) =>
  `sha256:${createHash('sha256')
    .update(lines.map((l) => `${l}\n`).join(''))
    .digest('hex')}`;

/**
 * Reads sql/checksums.lock. Every line is a comment, the sum line, an entry
 * or a superseded line; anything else, a missing sum or a sum that does not
 * match the entries (a hand edit) is refused rather than skipped, so a
 * released version can never quietly turn "new" and be re-recorded by --update.
 */
export function readLock(m: Manifest): Map<string, LockEntry> {
  return readLockFile(m).entries;
}

/** The lock with its superseded lines; an empty lock when the file does not exist. */
export function readLockFile(m: Manifest): Lock {
  const path = lockPath(m);
  if (!existsSync(path)) return { entries: new Map(), superseded: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LockFileUnreadableError(path, reasonOf(err));
  }
  return parseLock(text, 'sql/checksums.lock');
}

/** Parses a lock's text (the file, or REF's copy for --base); `label` names it in messages. */
export function parseLock(text: string, label: string): Lock {
  const map = new Map<string, LockEntry>();
  const superseded: Supersession[] = [];
  const entryLines: string[] = [];
  let sum: string | null = null;
  text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const s = SUM.exec(line);
      if (s) {
        if (sum !== null) throw new LockFileError(`${label}:${i + 1}: a second sum line.`);
        sum = s[1];
        return;
      }
      const x = SUPERSEDED.exec(line);
      if (x) {
        superseded.push({
          version: Number(x[1]),
          dialect: x[2],
          ...(x[3] ? { phase: x[3] as Phase } : {}),
          old: x[4],
          now: x[5],
        });
        entryLines.push(line);
        return;
      }
      const e = ENTRY.exec(line);
      if (!e)
        throw new LockFileError(
          `${label}:${i + 1}: not an entry ("VERSION DIALECT [PHASE] FILE sha256-lf:HEX"), a superseded line nor the sum line: ${JSON.stringify(line.slice(0, 120))}.`,
        );
      const entry: LockEntry = {
        version: Number(e[1]),
        dialect: e[2],
        ...(e[3] ? { phase: e[3] as Phase } : {}),
        file: e[4],
        checksum: e[5],
      };
      if (map.has(key(entry)))
        throw new LockFileError(
          `${label}:${i + 1}: version ${entry.version} (${entry.dialect}${entry.phase ? ` ${entry.phase}` : ''}) is listed twice.`,
        );
      map.set(key(entry), entry);
      entryLines.push(line);
    });
  if (sum === null)
    throw new LockFileError(`${label} has no sum line, so a hand edit could not be told from a release.`);
  if (sum !== sumOf(entryLines))
    throw new LockFileError(`${label} was edited by hand: its entries do not match its sum line.`);
  return { entries: map, superseded };
}

/** Whether `from` leads to `to` through the fixes recorded for one file (`from` itself included). */
export function supersededTo(
  lock: Lock,
  e: Pick<LockEntry, 'version' | 'dialect' | 'phase'>,
  from: string,
  to: string,
): boolean {
  const mine = lock.superseded.filter((x) => key(x) === key(e));
  for (let at = from, steps = 0; steps <= mine.length; steps++) {
    if (at === to) return true;
    const next = mine.find((x) => x.old === at);
    if (!next) return false;
    at = next.now;
  }
  return false;
}

export function writeLock(m: Manifest, entries: LockEntry[], superseded: Supersession[] = []): void {
  const header =
    '# glance-db checksums.lock: the checksum of every released migration file.\n# A released file must never change. Regenerate only to add versions: glance-db lint --update\n# (a security fix to a released file: glance-db lint --update --supersede VERSION, which adds a superseded line).\n# The sum line covers every entry and superseded line below it; a hand edit fails lint.\n';
  const lines = [
    ...entries.map(
      (e) =>
        `${String(e.version).padStart(3, '0')} ${e.dialect}${e.phase ? ` ${e.phase}` : ''} ${e.file} ${e.checksum}`,
    ),
    ...superseded.map(supersededLine),
  ];
  const path = lockPath(m);
  // Root may write any file: a lock file without write permission is read-only on purpose, so it is refused, not replaced.
  try {
    if ((statSync(path).mode & 0o222) === 0)
      throw new OutputError(
        `Cannot update ${path}: it is read-only. Nothing was written.`,
        'Make it writable (chmod u+w) if the new versions are meant to be recorded.',
      );
  } catch (err) {
    if (err instanceof OutputError) throw err;
  }
  writeOutputFile(
    path,
    `${header}sum ${sumOf(lines)}\n${lines.join('\n')}\n`,
    'the checksum lock',
    'Check the permissions of sql/ and sql/checksums.lock.',
  );
}
