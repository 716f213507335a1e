// --backup for sync: taken under the migration lock, before anything changes, unless there is nothing to back up
// or nothing will change.
import { GlanceDbError, OutputError } from '../platform/errors.js';
import { reasonOf } from '../platform/output-place.js';
import type { Driver } from '../core/driver/driver.js';
import { summarize } from '../core/history.js';
import type { ProgressEvent } from '../core/progress.js';
import type { RunContext } from '../core/run-context.js';
import { detectGlanceManaged } from '../glance/detect.js';
import { takeBackup } from './backup.js';

export async function backupFirst(
  ctx: RunContext,
  driver: Driver,
  target: number,
  dir: string,
  tool: string | null,
  onProgress: (e: ProgressEvent) => void,
): Promise<void> {
  const tables = driver.exists() ? await driver.listTables() : [];
  if (tables.length === 0)
    return onProgress({ type: 'backup-skipped', reason: 'the database is empty, there is nothing to back up' });
  const history = summarize(await driver.readHistory());
  const partial = (await driver.readHistory()).some((r) => r.status !== 'complete');
  if (history.current !== null && history.current >= target && !partial)
    return onProgress({ type: 'backup-skipped', reason: `already at version ${history.current}, nothing will change` });
  onProgress({ type: 'backup-start' });
  // A database glance-manage built has no version rows yet: its backup is named after Glance's own level.
  const level = history.current ?? (await detectGlanceManaged(driver, tables).catch(() => null))?.version ?? null;
  let path: string;
  try {
    path = await takeBackup(ctx.target, dir, level, tool, ctx.env ?? {});
  } catch (err) {
    if (err instanceof GlanceDbError || !(err as NodeJS.ErrnoException)?.code) throw err;
    throw new OutputError(
      `Cannot write the backup in ${dir}: ${reasonOf(err)}. Nothing was changed.`,
      'Pass --backup-dir with a folder glance-db can create or write in.',
    );
  }
  onProgress({ type: 'backup', path });
}
