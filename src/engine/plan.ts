// `plan`: exactly the SQL sync would run, version by version, for review or
// for a DBA to run by hand. The script form also records the version-table
// rows and Glance's alembic_version, so glance-db sees the result as applied.
import { UsageError } from '../errors.js';
import { bookkeepingStatements } from '../glance/bookkeeping.js';
import type { Dialect } from '../dialects/index.js';
import type { RunContext } from './context.js';
import { readMigrationFile, statementsOf } from './files.js';
import { statusOf, withExistingDatabase } from './status.js';

export interface PlannedVersion {
  version: number;
  name: string;
  file: string;
  checksum: string;
  statements: string[];
  bookkeeping: string[];
}

export interface Plan {
  dialect: Dialect;
  from: number | null;
  to: number;
  versions: PlannedVersion[];
  /** The database has Glance's legacy migrate_version table (only known when planned against it). */
  migrateVersion: boolean;
}

export interface PlanRequest {
  version?: number;
  /** Plan offline for this dialect instead of asking the database. */
  dialect?: Dialect;
  from?: number;
}

async function startingPoint(ctx: RunContext, req: PlanRequest): Promise<{ from: number | null; migrateVersion: boolean }> {
  if (req.dialect || req.from !== undefined) return { from: req.from ?? null, migrateVersion: false };
  return withExistingDatabase(ctx, async (driver) => {
    if (!driver) return { from: null, migrateVersion: false };
    const s = await statusOf(ctx, driver);
    return { from: s?.version ?? null, migrateVersion: (await driver.listTables()).includes('migrate_version') };
  });
}

export async function plan(ctx: RunContext, req: PlanRequest): Promise<Plan> {
  const dialect = req.dialect ?? ctx.target.dialect;
  if (!ctx.manifest.dialects.includes(dialect)) throw new UsageError(`The manifest has no ${dialect} files.`);
  const all = ctx.manifest.migrations;
  const to = req.version ?? all[all.length - 1].version;
  for (const v of [to, req.from].filter((x) => x !== undefined)) {
    if (!all.some((m) => m.version === v)) throw new UsageError(`${v} is not a version glance-db knows; known versions are ${all[0].version} to ${all[all.length - 1].version}.`);
  }
  const { from, migrateVersion } = await startingPoint(ctx, req);
  if (from !== null && to < from) throw new UsageError(`VERSION ${to} is below the starting version ${from}: glance-db plans no downgrades.`);
  const versions = all.filter((m) => m.version <= to && (from === null || m.version > from)).map((m) => {
    const loaded = readMigrationFile(ctx.manifest, m, dialect);
    const statements = statementsOf(loaded, dialect, m.version).map((s) => s.text);
    return { version: m.version, name: m.name, file: loaded.file, checksum: loaded.checksum, statements, bookkeeping: bookkeepingStatements(m.version, dialect, migrateVersion) };
  });
  return { dialect, from, to, versions, migrateVersion };
}

/** Plain listing for review: the statements sync would send, each ending in `;`. */
export function planText(p: Plan): string {
  const head = `-- glance-db plan (${p.dialect}): from ${p.from ?? 'an empty database'} to version ${p.to}; ${p.versions.length} version(s)\n`;
  const body = p.versions.map((v) => [`\n-- Version ${v.version} ${v.name}: ${v.file} ${v.checksum}`, ...v.statements.map((s) => `${s};`), ...v.bookkeeping.map((s) => `${s};`)].join('\n'));
  return `${head}${body.join('\n')}\n`;
}

export { planScript, serverNowSql } from './script.js';
