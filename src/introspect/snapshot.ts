// The expected schema of every version in every dialect, as committed JSON
// models (schema/expected/<dialect>/vNN.json, made by `npm run snapshots`
// from glance-db's own SQL and checked against Glance's reference dumps by
// the tests). Take-over and verify compare a live database with them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Dialect } from '../url.js';
import type { SchemaModel } from './model.js';

export const snapshotDir = () => join(PACKAGE_ROOT, 'schema', 'expected');

/** Tables that are bookkeeping, not Glance's schema. */
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
    throw new ConfigError(`The expected ${dialect} schema of version ${version} (${snapshotPath(dialect, version)}) cannot be read: ${(err as Error).message}.`);
  }
}
