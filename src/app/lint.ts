// `lint`, offline, for pull requests: the manifest loads (schema, files,
// references), every file splits into statements, and no released file has
// changed against sql/checksums.lock. Editing a released migration fails;
// a new version fails until `glance-db lint --update` records it, so the
// lock change shows in the pull request.
//
// Two ways past a recorded checksum, both explicit and both covered by the
// lock's sum line: `--update --supersede VERSION` records a security fix to
// a released file as superseding the old checksum (a `superseded` line;
// databases that ran the old file stay valid, src/core/superseded.ts), and
// `--update --base REF` re-records versions that REF's lock does not hold
// (drafts of an open pull request), as Atlas's `migrate lint --git-base`
// tells new files from released ones. Released files stay frozen either way.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ConfigError, OutputError, UsageError } from '../platform/errors.js';
import {
  DraftsNotRecordedError,
  LockFileError,
  LockFileUnreadableError,
  ReleasedFileChangedError,
  ReleasedVersionRemovedError,
  VersionsNotLockedError,
} from '../platform/errors-files.js';
import { writeOutputFile } from '../platform/output.js';
import { reasonOf } from '../platform/output-place.js';
import { PHASES, type Manifest, type Phase } from '../core/manifest/types.js';
import { readMigrationFile, statementsOf } from '../core/files.js';
import { expectedSchema } from '../core/introspect/snapshot.js';

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
        return {
          version: mig.version,
          dialect: d,
          ...(phase ? { phase } : {}),
          file: loaded.file,
          checksum: loaded.checksum,
        };
      }),
    ),
  );
}

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

export interface LintResult {
  files: number;
  versions: number;
  added: string[];
  /** --base: draft files recorded again with their new checksum ("52 sqlite"). */
  rerecorded: string[];
  /** --supersede: released files whose fix was recorded ("45 sqlite contract"). */
  superseded: string[];
  /** "52 sqlite": versions with no expected schema, next to the manifest or installed (glance-db snapshot makes them). */
  noExpectedSchema: string[];
}

export interface LintOptions {
  /** --supersede VERSION: record a changed released file of these versions as a fix superseding its locked checksum (with update). */
  supersede?: number[];
  /** --base REF: REF's lock; only its entries are released (frozen), every other file may be recorded again (with update). */
  base?: { ref: string; lock: Lock };
}

/** Throws on the first class of problem found; returns what was checked. */
export function lint(m: Manifest, update: boolean, opts: LintOptions = {}): LintResult {
  const entries = currentEntries(m);
  const local = readLockFile(m);
  const released = opts.base?.lock ?? local;
  const supersede = new Set(opts.supersede ?? []);
  for (const v of supersede) {
    if (!m.migrations.some((mig) => mig.version === v))
      throw new UsageError(`--supersede ${v}: the manifest has no version ${v}.`);
  }
  // Released files must be unchanged, or superseded by a fix the lock records (the local lock's lines, which a pull request adds).
  const fixes: Supersession[] = [];
  const changed: (LockEntry & { locked: string })[] = [];
  for (const e of entries.filter((x) => released.entries.has(key(x)))) {
    const was = released.entries.get(key(e))!.checksum;
    if (supersededTo(local, e, was, e.checksum)) continue;
    if (update && supersede.has(e.version))
      fixes.push({
        version: e.version,
        dialect: e.dialect,
        ...(e.phase ? { phase: e.phase } : {}),
        old: local.entries.get(key(e))?.checksum ?? was,
        now: e.checksum,
      });
    else changed.push({ ...e, locked: was });
  }
  if (changed.length > 0) throw new ReleasedFileChangedError(changed, opts.base?.ref);
  for (const v of supersede) {
    if (!fixes.some((x) => x.version === v))
      throw new UsageError(
        `--supersede ${v}: no released file of version ${v} has changed, so there is no fix to record. Nothing was written.`,
        'Drop --supersede; it is only for a fix to a file sql/checksums.lock already records.',
      );
  }
  const removed = [...released.entries.values()].filter((l) => !entries.some((e) => key(e) === key(l)));
  if (removed.length > 0) throw new ReleasedVersionRemovedError(removed);
  // Everything else must be what the local lock records: new files are added, drafts (with --base) recorded again.
  const stale = entries.filter(
    (e) => local.entries.get(key(e))?.checksum !== e.checksum && !fixes.some((x) => key(x) === key(e)),
  );
  const added = stale.filter((e) => !local.entries.has(key(e))).map(key);
  const rerecorded = stale.filter((e) => local.entries.has(key(e))).map(key);
  const dropped = [...local.entries.values()].filter((l) => !entries.some((e) => key(e) === key(l))).map(key);
  if (!update && (rerecorded.length > 0 || dropped.length > 0))
    throw new DraftsNotRecordedError([...rerecorded, ...dropped.map((d) => `${d} (removed)`)], opts.base?.ref);
  if (added.length > 0 && !update) throw new VersionsNotLockedError(added);
  if (update && (stale.length > 0 || dropped.length > 0 || fixes.length > 0))
    writeLock(m, entries, [...local.superseded, ...fixes]);
  const noExpectedSchema = m.migrations.flatMap((mig) =>
    m.dialects.filter((d) => !expectedSchema(m, d, mig.version)).map((d) => `${mig.version} ${d}`),
  );
  return {
    files: entries.length,
    versions: m.migrations.length,
    added: update ? added : [],
    rerecorded: update ? [...rerecorded, ...dropped.map((d) => `${d} (removed)`)] : [],
    superseded: fixes.map(key),
    noExpectedSchema,
  };
}

/**
 * --base REF: REF's sql/checksums.lock, read with git (`git show`, no
 * shell) from the repository the manifest is in. No git, no repository, a
 * ref git does not know or a REF without the lock: a clear error.
 */
export function lockAtRef(m: Manifest, ref: string): { ref: string; lock: Lock } {
  if (!ref.trim() || ref.startsWith('-') || /[\0\n]/.test(ref))
    throw new UsageError(
      `--base ${JSON.stringify(ref.slice(0, 80))} is not a git ref.`,
      'Give a branch, tag or commit, for example --base origin/main.',
    );
  const git = (args: string[]) =>
    spawnSync('git', args, {
      cwd: m.dir,
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
  const firstLine = (t: string) =>
    t
      .trim()
      .split('\n')[0]
      .replace(/^fatal: /, '');
  const commit = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (commit.error) {
    const missing = (commit.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ConfigError(
      missing
        ? 'lint --base needs git, and there is no git on PATH.'
        : `lint --base could not run git: ${commit.error.message}.`,
      { hint: "Install git (the repository's history is where REF's lock comes from), or run lint without --base." },
    );
  }
  if (commit.status === 1)
    throw new UsageError(
      `--base ${ref}: git knows no commit by that name in the repository of ${m.dir}.`,
      'Give a branch, tag or commit that exists there (git fetch first for a remote branch), for example --base origin/main.',
    );
  if (commit.status !== 0) {
    throw new ConfigError(
      `lint --base needs the git repository ${m.path} is in, and git says: ${firstLine(commit.stderr) || `exit ${commit.status}`}.`,
      {
        hint: 'Run lint --base inside a clone of the repository that holds glance-db.yaml and sql/, or run lint without --base.',
      },
    );
  }
  const sha = commit.stdout.trim();
  const shown = git(['show', `${sha}:./sql/checksums.lock`]);
  if (shown.status !== 0) {
    throw new ConfigError(
      `--base ${ref}: that commit has no sql/checksums.lock next to the manifest (git: ${firstLine(shown.stderr) || `exit ${shown.status}`}), so it tells nothing about which versions are released.`,
      { hint: 'Give the ref of the branch the lock was released on (the one pull requests merge into).' },
    );
  }
  return { ref, lock: parseLock(shown.stdout, `${ref}:sql/checksums.lock`) };
}
