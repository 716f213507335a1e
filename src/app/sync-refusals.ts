// Sync's refusals that other commands share: not under version control (with the version an unplaced schema
// matches), a downgrade, a version glance-db does not know.
import { DowngradeRefusedError, NotUnderVersionControlError, UsageError } from '../platform/errors.js';
import type { Driver } from '../core/driver/driver.js';
import type { Migration } from '../core/manifest/types.js';
import { NoExpectedSchemaError } from '../core/introspect/snapshot.js';
import { suggest, type RunContext } from '../core/run-context.js';
import { schemaDifferences } from '../glance/adopt.js';
import { GLANCE_TABLES } from '../glance/detect.js';
import { restoreSteps } from './restore.js';

export function findMigration(ctx: RunContext, version: number, what: string): Migration {
  const mig = ctx.manifest.migrations.find((m) => m.version === version);
  if (!mig) {
    const known = ctx.manifest.migrations.map((m) => m.version);
    throw new UsageError(
      `${what} ${version} is not a version glance-db knows; known versions are ${known[0]} to ${known[known.length - 1]}.`,
    );
  }
  return mig;
}

/** A database with tables but no bookkeeping: name the version its schema matches, if any. */
export async function unplacedError(
  ctx: RunContext,
  driver: Driver,
  tables: string[],
): Promise<NotUnderVersionControlError> {
  const isGlance = GLANCE_TABLES.every((t) => tables.includes(t));
  let matches: number | null = null;
  if (isGlance) {
    // The lowest version with this schema: data-only versions share their predecessor's schema, and their data step must not be skipped.
    for (const m of ctx.manifest.migrations) {
      const diff = await schemaDifferences(ctx, driver, m.version).catch((err) => {
        if (err instanceof NoExpectedSchemaError) return null;
        throw err;
      });
      if (diff?.length === 0) {
        matches = m.version;
        break;
      }
    }
  }
  const what = isGlance
    ? matches !== null
      ? ` It holds Glance tables without any version table; their schema is exactly that of version ${matches}.`
      : ' It holds Glance tables without any version table, and their schema matches no version exactly.'
    : ` It already holds ${tables.length} table(s) (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', ...' : ''}) that are not Glance's.`;
  const hint =
    matches !== null
      ? `If that is right, run: ${suggest(ctx, `sync ${ctx.goal?.version ?? ctx.manifest.migrations[ctx.manifest.migrations.length - 1].version} ${matches}`)} (records ${span(ctx, matches)} as applied, runs nothing up to it).`
      : `glance-db will not guess. If this is a Glance database, say its version: ${suggest(ctx, 'sync VERSION CURRENT_VERSION')}; otherwise point --url at an empty database.`;
  return new NotUnderVersionControlError(ctx.target.display, hint, what);
}

export function notUnder(ctx: RunContext, command: string): NotUnderVersionControlError {
  return new NotUnderVersionControlError(
    ctx.target.display,
    `Run ${suggest(ctx, 'sync')} first to put it under version control (${command} only works on a database glance-db manages).`,
  );
}

export function downgradeError(
  ctx: RunContext,
  from: number,
  to: number | undefined,
  backup?: string | null,
): DowngradeRefusedError {
  const steps = restoreSteps(ctx.target, suggest(ctx, 'version'), backup ?? undefined);
  const what =
    to === undefined
      ? 'Downgrades are not supported'
      : `Version ${to} is below the database's version ${from}: downgrades are not supported`;
  return new DowngradeRefusedError(
    `${what}, and nothing was changed. The only way back is to restore the backup taken before the upgrade.`,
    steps,
  );
}

/** "42-44": the range of versions from the first up to `to`. */
function span(ctx: RunContext, to: number): string {
  const first = ctx.manifest.migrations[0].version;
  return first === to ? `${to}` : `${first}-${to}`;
}
