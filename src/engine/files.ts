// Reading a version's SQL file: one normalisation for checksum and execution.
import { readFileSync } from 'node:fs';
import { checksumOf, normalizeSql } from '../checksum.js';
import { ConfigError, MigrationFileError, TransactionControlError } from '../errors.js';
import { resolveSqlFile } from '../manifest/load.js';
import type { Manifest, Migration, Phase } from '../manifest/types.js';
import { splitStatements, transactionControl, type Statement } from '../sql/split.js';
import type { Dialect } from '../dialects/index.js';

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
  statements: Statement[];
}

/**
 * Reads, checks and splits the files of every version up to `upTo`, before
 * anything runs: a missing, binary or unsplittable file late in the line must
 * stop the run before its first statement, not after half the upgrade.
 */
export function readVersions(manifest: Manifest, dialect: Dialect, upTo: number): Map<number, ReadVersion> {
  const out = new Map<number, ReadVersion>();
  for (const mig of manifest.migrations.filter((m) => m.version <= upTo)) {
    const loaded = readMigrationFile(manifest, mig, dialect);
    out.set(mig.version, { loaded, statements: statementsOf(loaded, dialect, mig.version) });
  }
  return out;
}
