import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { versionArg } from '../args.js';
import { BaseCommand } from '../base-command.js';
import { snapshot } from '../engine/snapshot.js';

export default class Snapshot extends BaseCommand {
  static description =
    'Make the expected schema of VERSION (a version your site added) for verify, check and take-over: builds it with glance-db\'s SQL on an empty ' +
    'scratch database and writes schema/expected/<dialect>/vNN.json next to the manifest. SQLite uses a temporary file unless --url is given; ' +
    'for PostgreSQL or MySQL pass --url to a new, empty database.';
  static examples = ['glance-db snapshot 52', 'glance-db snapshot 52 --url postgresql://glance@db/glance_scratch'];
  static args = { version: versionArg('VERSION', 'The version whose expected schema to make.', true) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Snapshot);
    // Without --url, never the configured database: a scratch SQLite file.
    const scratch = flags.url ? null : mkdtempSync(join(tmpdir(), 'glance-db-snapshot-'));
    try {
      const ctx = this.context({ ...flags, 'glance-config': flags.url ? flags['glance-config'] : undefined, url: flags.url ?? `sqlite:${join(scratch!, 'scratch.sqlite')}` });
      const r = await snapshot(ctx, args.version!);
      if (this.jsonMode) this.emitJson({ ok: true, version: args.version, dialect: ctx.target.dialect, path: r.path, tables: r.tables });
      else this.out(`wrote ${r.path}: the expected ${ctx.target.dialect} schema of version ${args.version} (${r.tables} tables)`);
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  }
}
