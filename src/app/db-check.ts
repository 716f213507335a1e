// `db check`: glance-manage's answer and exit codes, so that deployment
// scripts written for it (kolla-ansible's rolling upgrade) keep working:
// 0 up to date, 3 expand needed, 4 migrate needed, 5 contract needed. Any
// other state (drift, a gap, a partly applied version...) has no code there:
// exit 36, with glance-db check's line saying which.
import type { Phase } from '../core/manifest/types.js';
import { check, type CheckResult } from './check.js';
import { suggest, type RunContext } from '../core/run-context.js';
import type { Goal } from '../glance/goal.js';

export type GlanceStep = 'up-to-date' | Phase | 'other';

export const DB_CHECK_CODES: Record<Exclude<GlanceStep, 'other'>, number> = {
  'up-to-date': 0,
  expand: 3,
  migrate: 4,
  contract: 5,
};

export interface DbCheckResult {
  check: CheckResult;
  step: GlanceStep;
  line: string;
}

export async function dbCheck(ctx: RunContext<Goal>): Promise<DbCheckResult> {
  const r = await check(ctx);
  const step = stepOf(r);
  const what =
    step === 'up-to-date'
      ? 'Database is up to date. No upgrades needed.'
      : step === 'other'
        ? "The database is in a state glance-manage's check has no code for."
        : `Your database is not up to date. Your ${step === 'expand' ? 'first' : 'next'} step is to run ${suggest(ctx, step)}.`;
  return { check: r, step, line: `${what} (${r.line})` };
}

function stepOf(r: CheckResult): GlanceStep {
  if (r.state === 'current') return 'up-to-date';
  if (r.state === 'upgrade-pending') {
    // Rows left for a migrate phase that already ran: contract would refuse, so migrate is next (Glance's has_migrations).
    if (r.rolling?.underWay) return r.unmigrated?.length ? 'migrate' : (r.rolling.next ?? 'contract');
    // Glance's own rolling upgrade (glance-manage's expand): glance-db's data migrations are next (glance/continue.ts).
    if (r.glance?.expandedTo) return 'migrate';
    return 'expand';
  }
  if (r.state !== 'not-under-version-control') return 'other';
  // A new, empty database: expand builds it (glance-manage says the same with no alembic_version).
  if (r.empty) return 'expand';
  const g = r.glance;
  if (!g) return 'other';
  // What glance-manage's own check would answer from its bookkeeping.
  if (g.expandedTo === null) return g.version >= r.latest ? 'up-to-date' : 'expand';
  // Its own rolling upgrade under way: glance-manage's check says contract, but glance-db's data migrations have
  // not run (images with no visibility): migrate is next, and glance-db migrate continues it (glance/continue.ts).
  return 'migrate';
}
