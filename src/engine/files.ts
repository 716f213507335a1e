// Reading a version's SQL file: one normalisation for checksum and execution.
import { readFileSync } from 'node:fs';
import { checksumOf, normalizeSql } from '../checksum.js';
import { ConfigError } from '../errors.js';
import { resolveSqlFile } from '../manifest/load.js';
import type { Manifest, Migration, Phase } from '../manifest/types.js';
import { splitStatements, type Statement } from '../sql/split.js';
import type { Dialect } from '../url.js';

export interface LoadedFile {
  file: string;
  checksum: string;
  text: string;
}

/** The whole file of a version, or with `phase` its file for that phase of a rolling upgrade. */
export function readMigrationFile(manifest: Manifest, mig: Migration, dialect: Dialect, phase?: Phase): LoadedFile {
  const file = phase ? mig.phases?.[phase]?.[dialect] : mig.files[dialect];
  if (!file) throw new ConfigError(`Version ${mig.version} has no ${dialect} ${phase ? `${phase} ` : ''}file in ${manifest.path}.`);
  // Resolved again at read time: the folders may have changed since the manifest was loaded.
  const where = resolveSqlFile(manifest.dir, file);
  if ('problem' in where) throw new ConfigError(`${file} (version ${mig.version}) ${where.problem}.`);
  let raw: Buffer;
  try {
    raw = readFileSync(where.real);
  } catch (err) {
    throw new ConfigError(`Cannot read ${file} (version ${mig.version}): ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  if (raw.includes(0)) throw new ConfigError(`${file} (version ${mig.version}) is a binary file, not SQL.`);
  return { file, checksum: checksumOf(raw), text: normalizeSql(raw) };
}

export function statementsOf(loaded: LoadedFile, dialect: Dialect, version: number): Statement[] {
  try {
    return splitStatements(loaded.text, dialect);
  } catch (err) {
    throw new ConfigError(`${loaded.file} (version ${version}): ${(err as Error).message}.`);
  }
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
