// Reading a version's SQL file: one normalisation for checksum and execution.
import { readFileSync } from 'node:fs';
import { checksumOf, normalizeSql } from '../platform/checksum.js';
import { ConfigError } from '../platform/errors.js';
import { MigrationFileError, TransactionControlError } from '../platform/errors-files.js';
import { resolveSqlFile } from './manifest/load.js';
import type { Manifest, Migration, Phase } from './manifest/types.js';
import { splitStatements, transactionControl, type Statement } from './sql/split.js';
import type { Dialect } from './driver/dialect.js';

export interface LoadedFile {
  file: string;
  checksum: string;
  text: string;
}

/** The whole file of a version, or with `phase` its file for that phase of a rolling upgrade. */
export function readMigrationFile(manifest: Manifest, mig: Migration, dialect: Dialect, phase?: Phase): LoadedFile {
  const file = phase ? mig.phases?.[phase]?.[dialect] : mig.files[dialect];
  if (!file)
    throw new MigrationFileError(
      `Version ${mig.version} has no ${dialect} ${phase ? `${phase} ` : ''}file in ${manifest.path}.`,
      mig.version,
      null,
    );
  // Resolved again at read time: the folders may have changed since the manifest was loaded.
  const where = resolveSqlFile(manifest.dir, file);
  if ('problem' in where)
    throw new MigrationFileError(`${file} (version ${mig.version}) ${where.problem}.`, mig.version, file);
  let raw: Buffer;
  try {
    raw = readFileSync(where.real);
  } catch (err) {
    throw new MigrationFileError(
      `Cannot read ${file} (version ${mig.version}): ${(err as NodeJS.ErrnoException).code ?? err}.`,
      mig.version,
      file,
    );
  }
  if (raw.includes(0))
    throw new MigrationFileError(`${file} (version ${mig.version}) is a binary file, not SQL.`, mig.version, file);
  return { file, checksum: checksumOf(raw), text: normalizeSql(raw) };
}

/** The file's statements, split; a file that does not split, or holds transaction control, is refused (exit 3). */
export function statementsOf(loaded: LoadedFile, dialect: Dialect, version: number): Statement[] {
  let statements: Statement[];
  try {
    statements = splitStatements(loaded.text, dialect);
  } catch (err) {
    throw new ConfigError(`${loaded.file} (version ${version}): ${(err as Error).message}.`);
  }
  for (const s of statements) {
    const what = transactionControl(s.text, dialect);
    if (what) throw new TransactionControlError(version, loaded.file, s.line, s.text, what);
  }
  return statements;
}

export interface ReadVersion {
  loaded: LoadedFile;
  /** Split on first use when readVersions was asked to (`splitWhenUsed`); a file that does not split throws here. */
  readonly statements: Statement[];
}

/**
 * Reads, checks and splits the files of every version up to `upTo`, before
 * anything runs: a missing, binary or unsplittable file late in the line must
 * stop the run before its first statement, not after half the upgrade.
 * With `splitWhenUsed` each file is read and checked now but split when its
 * statements are first asked for: sync splits only the versions it may run,
 * after reading the history and before writing anything (splitUnapplied),
 * so a no-op sync splits none (issue 31: a third of its manifest and file work).
 */
export function readVersions(
  manifest: Manifest,
  dialect: Dialect,
  upTo: number,
  { splitWhenUsed = false }: { splitWhenUsed?: boolean } = {},
): Map<number, ReadVersion> {
  const out = new Map<number, ReadVersion>();
  for (const mig of manifest.migrations.filter((m) => m.version <= upTo)) {
    const loaded = readMigrationFile(manifest, mig, dialect);
    if (!splitWhenUsed) {
      out.set(mig.version, { loaded, statements: statementsOf(loaded, dialect, mig.version) });
      continue;
    }
    let statements: Statement[] | undefined;
    out.set(mig.version, {
      loaded,
      get statements() {
        return (statements ??= statementsOf(loaded, dialect, mig.version));
      },
    });
  }
  return out;
}

/**
 * Splits (and so checks) the file of every version in `files` that `rows` do
 * not record as applied complete from that very file (same checksum): the
 * versions a run may still execute, or must report as changed. A version
 * applied from this file was split when it ran.
 */
export function splitUnapplied(
  files: Map<number, ReadVersion>,
  rows: { version: number; status: string; checksum: string }[],
): void {
  const applied = new Map(rows.filter((r) => r.status === 'complete').map((r) => [r.version, r.checksum]));
  for (const [version, f] of files) if (applied.get(version) !== f.loaded.checksum) void f.statements;
}
