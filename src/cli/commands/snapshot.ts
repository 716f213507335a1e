import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { versionArg } from '../args.js';
import { BaseCommand } from '../base-command.js';
import { manifestPath } from '../context.js';
import { snapshot } from '../../app/snapshot.js';
import { OutputError } from '../../platform/errors.js';

export default class Snapshot extends BaseCommand {
  static description =
    "Make the expected schema of VERSION (a version your site added) for verify, check and take-over: builds it with glance-db's SQL on an empty " +
    'scratch database and writes schema/expected/<dialect>/vNN.json next to the manifest. SQLite uses a temporary file unless --url is given; ' +
    'for PostgreSQL or MySQL pass --url to a new, empty database.';
  static examples = ['glance-db snapshot 52', 'glance-db snapshot 52 --url postgresql://glance@db/glance_scratch'];
  static args = { version: versionArg('VERSION', 'The version whose expected schema to make.', true) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Snapshot);
    // Without a manifest of the site's own, the file would land inside glance-db's installed package.
    const where = manifestPath(flags.config);
    if (where.bundled) {
      throw new OutputError(
        `glance-db snapshot writes the expected schema next to the manifest, and there is no glance-db.yaml here: the manifest in use is the one installed with glance-db (${where.path}), whose versions all have their expected schema installed already, and glance-db never writes into its installed package. Nothing was changed.`,
        "Run it for a version your site added, with your site's manifest: --config /path/to/glance-db.yaml, or from the folder that holds it; the file goes to schema/expected/<dialect>/ beside it.",
      );
    }
    // Without --url, never the configured database: a scratch SQLite file.
    const scratch = flags.url ? null : mkdtempSync(join(tmpdir(), 'glance-db-snapshot-'));
    try {
      const ctx = this.context({
        ...flags,
        'glance-config': flags.url ? flags['glance-config'] : undefined,
        url: flags.url ?? `sqlite:${join(scratch!, 'scratch.sqlite')}`,
      });
      const r = await snapshot(ctx, args.version!);
      if (this.jsonMode)
        this.emitJson({ ok: true, version: args.version, dialect: ctx.target.dialect, path: r.path, tables: r.tables });
      else
        this.out(
          `wrote ${r.path}: the expected ${ctx.target.dialect} schema of version ${args.version} (${r.tables} tables)`,
        );
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  }
}
