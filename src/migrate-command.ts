// What sync and upgrade share: run the engine, print progress and the result.
import { Flags } from '@oclif/core';
import { BaseCommand } from './base-command.js';
import { defaultBackupDir } from './engine/backup.js';
import type { RunContext } from './engine/context.js';
import { sync, type ProgressEvent, type SyncResult } from './engine/sync.js';

export abstract class MigrateCommand extends BaseCommand {
  private backupPath: string | null = null;

  static flags = {
    backup: Flags.boolean({ description: 'Back up the database before changing anything (SQLite: a copy of the file; PostgreSQL: pg_dump; MySQL: mariadb-dump/mysqldump).', default: false }),
    'backup-dir': Flags.string({ description: 'Where --backup writes [default: glance-db-backups next to the SQLite file, or in the working directory].' }),
  };

  protected async migrate(ctx: RunContext, version: number | undefined, currentVersion: number | undefined, requireVersionControl: boolean, flags: { backup: boolean; 'backup-dir'?: string }): Promise<void> {
    this.out(`database: ${ctx.target.display} (from ${ctx.urlSource})`);
    const backupDir = flags.backup ? (flags['backup-dir'] ?? defaultBackupDir(ctx.target)) : undefined;
    let result;
    try {
      result = await sync(ctx, { version, currentVersion, requireVersionControl, backupDir }, (e) => this.progress(e));
    } finally {
      this.stopIndicator();
    }
    this.report(ctx, result);
  }

  private indicator: NodeJS.Timeout | null = null;

  /** On a terminal, a live line while a version runs (data steps on big tables take minutes); plain output otherwise. */
  private startIndicator(version: number, name: string): void {
    if (this.jsonMode || !process.stderr.isTTY) return;
    const started = Date.now();
    const frames = '|/-\\';
    let i = 0;
    this.indicator = setInterval(() => {
      process.stderr.write(`\r${frames[i++ % 4]} applying ${version} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\x1b[K`);
    }, 200);
  }

  private stopIndicator(): void {
    if (!this.indicator) return;
    clearInterval(this.indicator);
    this.indicator = null;
    process.stderr.write('\r\x1b[K');
  }

  private progress(e: ProgressEvent): void {
    this.stopIndicator();
    if (e.type === 'start') return this.startIndicator(e.version, e.name);
    if (e.type === 'backup') {
      this.backupPath = e.path;
      this.out(`backup: ${e.path}`);
    }
    else if (e.type === 'backup-skipped') this.out(`backup: skipped, ${e.reason}`);
    else if (e.type === 'baseline') this.out(`baseline: recorded versions ${ranges(e.versions)} as already applied (nothing run)`);
    else if (e.type === 'adopted') this.out(`adopted: took over from glance-manage (${e.source}); recorded versions ${ranges(e.versions)} (nothing run)`);
    else if (e.type === 'applied') this.out(`applied ${e.version} ${e.name} (${e.ms} ms)`);
    else this.out(`skipped ${e.version} ${e.name}: applied meanwhile by another glance-db run`);
  }

  private report(ctx: RunContext, r: SyncResult): void {
    if (this.jsonMode) {
      this.emitJson({ ok: true, ...(this.backupPath ? { backup: this.backupPath } : {}), dialect: ctx.target.dialect, database: ctx.target.display, from: r.from, to: r.to, applied: r.applied, baselined: r.baselined, adopted: r.adopted, upToDate: r.upToDate });
      return;
    }
    this.out(r.upToDate ? `already at version ${r.to}; nothing to do` : `database is at version ${r.to}`);
  }
}

/** "42-48, 50": consecutive versions as ranges, so a version left pending is not listed. */
export function ranges(versions: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < versions.length; ) {
    let j = i;
    while (j + 1 < versions.length && versions[j + 1] === versions[j] + 1) j++;
    out.push(i === j ? `${versions[i]}` : `${versions[i]}-${versions[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}
