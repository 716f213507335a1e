// What sync and upgrade share: run the engine, print progress and the result.
import { BaseCommand } from './base-command.js';
import type { RunContext } from './engine/context.js';
import { sync, type ProgressEvent, type SyncResult } from './engine/sync.js';

export abstract class MigrateCommand extends BaseCommand {
  protected async migrate(ctx: RunContext, version: number | undefined, currentVersion: number | undefined, requireVersionControl: boolean): Promise<void> {
    this.out(`database: ${ctx.target.display} (from ${ctx.urlSource})`);
    const result = await sync(ctx, { version, currentVersion, requireVersionControl }, (e) => this.progress(e));
    this.report(ctx, result);
  }

  private progress(e: ProgressEvent): void {
    if (e.type === 'baseline') this.out(`baseline: recorded versions ${e.versions[0]}-${e.versions[e.versions.length - 1]} as already applied (nothing run)`);
    else if (e.type === 'adopted') this.out(`adopted: took over from glance-manage (${e.source}); recorded versions ${e.versions[0]}-${e.versions[e.versions.length - 1]} (nothing run)`);
    else if (e.type === 'applied') this.out(`applied ${e.version} ${e.name} (${e.ms} ms)`);
    else this.out(`skipped ${e.version} ${e.name}: applied meanwhile by another glance-db run`);
  }

  private report(ctx: RunContext, r: SyncResult): void {
    if (this.jsonMode) {
      this.emitJson({ ok: true, dialect: ctx.target.dialect, database: ctx.target.display, from: r.from, to: r.to, applied: r.applied, baselined: r.baselined, adopted: r.adopted, upToDate: r.upToDate });
      return;
    }
    this.out(r.upToDate ? `already at version ${r.to}; nothing to do` : `database is at version ${r.to}`);
  }
}
