// The expected schema of every version in every dialect, as committed JSON
// models (schema/expected/<dialect>/vNN.json, made by `npm run snapshots`
// from glance-db's own SQL and checked against the application's reference dumps by
// the tests). Take-over and verify compare a live database with them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeDialect, type Dialect } from '../driver/dialect.js';
import { ConfigError } from '../../platform/errors.js';
import { PACKAGE_ROOT } from '../../platform/paths.js';
import type { Manifest } from '../manifest/types.js';
import type { SchemaModel } from './model.js';

export const snapshotDir = () => join(PACKAGE_ROOT, 'schema', 'expected');

/** Tables that are bookkeeping, not the application's schema. */
export function bookkeepingTables(versionTable: string): string[] {
  return ['alembic_version', 'migrate_version', versionTable, `${versionTable}_lock`];
}

export function snapshotPath(dialect: Dialect, version: number): string {
  return join(snapshotDir(), dialect, `v${version}.json`);
}

export function loadSnapshot(dialect: Dialect, version: number): SchemaModel {
  try {
    return JSON.parse(readFileSync(snapshotPath(dialect, version), 'utf8')) as SchemaModel;
  } catch (err) {
    throw new ConfigError(
      `The expected ${dialect} schema of version ${version} (${snapshotPath(dialect, version)}) cannot be read: ${(err as Error).message}.`,
    );
  }
}

/** Where the expected schema of a version a manifest adds lives: next to that manifest. */
export function siteSnapshotPath(manifest: Pick<Manifest, 'dir'>, dialect: Dialect, version: number): string {
  return join(manifest.dir, 'schema', 'expected', dialect, `v${version}.json`);
}

/**
 * The expected schema of a version: next to the manifest first (versions a
 * site adds, made by `glance-db snapshot`), then the one installed with
 * glance-db. Null when there is none.
 */
export function expectedSchema(manifest: Pick<Manifest, 'dir'>, dialect: Dialect, version: number): SchemaModel | null {
  for (const path of [siteSnapshotPath(manifest, dialect, version), snapshotPath(dialect, version)]) {
    if (!existsSync(path)) continue;
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as SchemaModel;
    } catch (err) {
      throw new ConfigError(
        `The expected ${dialect} schema of version ${version} (${path}) cannot be read: ${(err as Error).message}.`,
      );
    }
  }
  return null;
}

/** No expected schema for a version: said in one line, with the command that makes one. */
export class NoExpectedSchemaError extends ConfigError {
  constructor(
    readonly version: number,
    dialect: Dialect,
    manifest: Pick<Manifest, 'dir'>,
  ) {
    super(
      `There is no expected ${dialect} schema for version ${version} (looked for ${siteSnapshotPath(manifest, dialect, version)}): make it with glance-db snapshot ${version}${describeDialect(dialect).snapshotArgs}.`,
      { fields: { version, dialect } },
    );
  }
}
