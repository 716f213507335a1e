import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { manifestPath } from '../engine/context.js';
import { lint } from '../engine/lint.js';
import { loadManifest } from '../manifest/load.js';

export default class Lint extends BaseCommand {
  static description =
    'Offline check for pull requests: the manifest is valid, every file is referenced, present and splits into statements for every dialect, ' +
    'and no released file changed against sql/checksums.lock. --update records new versions in the lock (never changes a released one).';
  static examples = ['glance-db lint', 'glance-db lint --update   # after adding a version'];
  static flags = { update: Flags.boolean({ description: 'Add new versions to sql/checksums.lock.', default: false }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Lint);
    const manifest = loadManifest(manifestPath(flags.config).path);
    const r = lint(manifest, flags.update);
    if (this.jsonMode) this.emitJson({ ok: true, versions: r.versions, files: r.files, added: r.added, noExpectedSchema: r.noExpectedSchema });
    else {
      this.out(`lint: ${r.versions} versions, ${r.files} files OK${r.added.length ? `; recorded ${r.added.join(', ')} in sql/checksums.lock` : ''}`);
      // Reported, not failed: verify and check then say they cannot compare those versions.
      const versions = [...new Set(r.noExpectedSchema.map((x) => x.split(' ')[0]))];
      for (const v of versions) {
        this.out(`lint: no expected schema for version ${v} (${r.noExpectedSchema.filter((x) => x.startsWith(`${v} `)).map((x) => x.split(' ')[1]).join(', ')}): make it with glance-db snapshot ${v} (--url an empty scratch database for PostgreSQL and MySQL)`);
      }
    }
  }
}
