import { BaseCommand } from '../base-command.js';
import { manifestPath } from '../context.js';
import { GLANCE_RELEASES, releaseLabel, releasesAt, revisionAt, schemaChangeNote } from '../../glance/releases.js';
import { installedGlance } from '../../glance/installed.js';
import { loadManifest } from '../../core/manifest/load.js';

export default class Versions extends BaseCommand {
  static description =
    'List every version with the Glance releases whose glance-manage db sync stops there and the Alembic revision it equals. ' +
    'Any of those releases names that version as a target: glance-db sync zed, glance-db sync 2023.2, glance-db upgrade --release 28.0.';
  static examples = ['glance-db versions', 'glance-db versions --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Versions);
    const manifest = loadManifest(manifestPath(flags.config).path);
    const rows = manifest.migrations.map((m) => ({
      version: m.version,
      name: m.name,
      revision: revisionAt(m.version),
      releases: releasesAt(m.version).map((r) => ({ name: r.name, series: r.series, glance: `${r.glanceMajor}` })),
    }));
    const installed = installedGlance();
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        versions: rows,
        ...(installed
          ? {
              installedGlance: {
                version: installed.version,
                release: installed.release?.name ?? null,
                schemaVersion: installed.schemaVersion,
              },
            }
          : {}),
      });
      return;
    }
    const w = Math.max(...rows.map((r) => r.name.length));
    this.out(
      `${'version'.padEnd(8)}${'name'.padEnd(w + 2)}${'Alembic revision'.padEnd(20)}Glance releases (glance major version)`,
    );
    for (const r of rows) {
      const rel =
        releasesAt(r.version)
          .map((x) => `${releaseLabel(x)} ${x.glanceMajor}`)
          .join(', ') || '-';
      this.out(`${String(r.version).padEnd(8)}${r.name.padEnd(w + 2)}${(r.revision ?? '-').padEnd(20)}${rel}`);
    }
    const newest = GLANCE_RELEASES[GLANCE_RELEASES.length - 1];
    const note = schemaChangeNote(rows[rows.length - 1].version);
    this.out(`Releases after ${releaseLabel(newest)} are not listed yet; ${note}`);
    if (installed)
      this.out(
        `Installed Glance: ${installed.version}${installed.release ? ` (${releaseLabel(installed.release)}: version ${installed.schemaVersion ?? installed.release.version})` : installed.schemaVersion ? ` (version ${installed.schemaVersion})` : ' (newer than glance-db knows)'}, ${installed.where}`,
      );
  }
}
