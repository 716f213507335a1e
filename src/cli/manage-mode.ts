// glance-db invoked as glance-manage (a link named glance-manage to
// bin/run.js, or the single executable copied under that name), so a site
// can put it where its images and playbooks call glance-manage. Where tools
// read the result, it answers as glance-manage does (glance/cmd/manage.py):
// - `db version`: the Alembic revision(s) in alembic_version, one a line,
//   or glance-manage's sentence for a database without them;
// - `db check`: glance-manage's lines and exit codes, 0 up to date, 3
//   expand, 4 migrate, 5 contract; a state glance-manage has no answer for
//   is an error, exit 1, as glance-manage's own failures are;
// - `db sync` with no target stops where the installed Glance's own tool
//   would (engine/goal.ts, the default of every glance-db).
// Under its own name glance-db keeps its own output.
import { basename } from 'node:path';
import type { RunContext } from './context.js';
import { withExistingDatabase } from '../app/status.js';
import { ALIASES } from '../glance/revisions.js';

export const GLANCE_MANAGE = 'glance-manage';

let invokedAs = false;

/**
 * Called once by the entry with the names the program was started under:
 * cli.ts gives bin/run.js's path as started (process.argv[1], a link's own
 * name); sea.ts the single executable's (process.argv0 as typed, and its path).
 */
export function setInvokedAs(...paths: (string | undefined)[]): void {
  invokedAs = paths.some((p) => p !== undefined && basename(p).replace(/\.(c|m)?js$/, '') === GLANCE_MANAGE);
}

/** Whether this run was started under the name glance-manage. */
export const asGlanceManage = (): boolean => invokedAs;

/** The sentence glance-manage's db version prints for a database without Alembic revisions. */
export const NOT_UNDER_ALEMBIC =
  'Database is either not under migration control or under legacy migration control, please run "glance-manage db sync" to place the database under alembic migration control.';

/**
 * What `glance-manage db version` prints: the rows of alembic_version as
 * Alembic returns them (its old single-branch names as glance-manage
 * renames them: ocata01, pike01), else its sentence. Reads only: a missing
 * SQLite file is not created.
 */
export async function glanceManageVersion(ctx: RunContext): Promise<string[]> {
  return withExistingDatabase(ctx, async (driver) => {
    if (!driver || !(await driver.listTables()).includes('alembic_version')) return [NOT_UNDER_ALEMBIC];
    const rows = await driver.query('SELECT version_num FROM alembic_version');
    const heads = rows.map((r) => String(r.version_num)).map((h) => ALIASES[h] ?? h);
    return heads.length ? heads : [NOT_UNDER_ALEMBIC];
  });
}

/** glance-manage's db check lines, by the step glance-db's db check found. */
export const GLANCE_MANAGE_CHECK: Record<'up-to-date' | 'expand' | 'migrate' | 'contract', string> = {
  'up-to-date': 'Database is up to date. No upgrades needed.',
  expand: 'Your database is not up to date. Your first step is to run `glance-manage db expand`.',
  migrate: 'Your database is not up to date. Your next step is to run `glance-manage db migrate`.',
  contract: 'Your database is not up to date. Your next step is to run `glance-manage db contract`.',
};
