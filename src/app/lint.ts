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
import { ConfigError, UsageError } from '../platform/errors.js';
import {
  DraftsNotRecordedError,
  ReleasedFileChangedError,
  ReleasedVersionRemovedError,
  VersionsNotLockedError,
} from '../platform/errors-files.js';
import { PHASES, type Manifest } from '../core/manifest/types.js';
import { readMigrationFile, statementsOf } from '../core/files.js';
import { expectedSchema } from '../core/introspect/snapshot.js';
import {
  key,
  parseLock,
  readLockFile,
  supersededTo,
  writeLock,
  type Lock,
  type LockEntry,
  type Supersession,
} from '../core/checksums-lock.js';

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
