import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { manifestPath } from '../context.js';
import { lint, lockAtRef } from '../../app/lint.js';
import { UsageError } from '../../platform/errors.js';
import { loadManifest } from '../../core/manifest/load.js';

export default class Lint extends BaseCommand {
  static description =
    'Offline check for pull requests: the manifest is valid, every file is referenced, present and splits into statements for every dialect, ' +
    'and no released file changed against sql/checksums.lock. --update records new versions in the lock (never changes a released one); ' +
    "with --base REF, versions REF's lock does not hold (drafts of an open pull request) may be recorded again; --supersede VERSION records a security fix to a released file.";
  static examples = [
    'glance-db lint',
    'glance-db lint --update   # after adding a version',
    'glance-db lint --update --base origin/main   # a draft version edited after it was recorded',
    'glance-db lint --base origin/main   # CI: nothing released on main changed',
  ];
  static flags = {
    update: Flags.boolean({
      description:
        'Add new versions to sql/checksums.lock (with --base: also record again versions REF has not released).',
      default: false,
    }),
    base: Flags.string({
      description:
        'A git ref (origin/main): only the versions in its sql/checksums.lock are released and frozen; read with git show.',
    }),
    supersede: Flags.integer({
      description:
        'With --update: record the changed released files of VERSION as a security fix superseding their locked checksums (databases that ran the old file stay valid). Repeatable.',
      multiple: true,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Lint);
    if (flags.supersede?.length && !flags.update)
      throw new UsageError(
        '--supersede records a fix in sql/checksums.lock, so it needs --update.',
        'Run glance-db lint --update --supersede VERSION.',
      );
    const manifest = loadManifest(manifestPath(flags.config).path);
    const base = flags.base !== undefined ? lockAtRef(manifest, flags.base) : undefined;
    const r = lint(manifest, flags.update, { supersede: flags.supersede, base });
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        versions: r.versions,
        files: r.files,
        added: r.added,
        noExpectedSchema: r.noExpectedSchema,
        ...(base ? { base: base.ref, rerecorded: r.rerecorded } : {}),
        ...(r.superseded.length ? { superseded: r.superseded } : {}),
      });
    } else {
      const did = [
        r.added.length ? `recorded ${r.added.join(', ')}` : '',
        r.rerecorded.length ? `recorded again ${r.rerecorded.join(', ')} (not released at ${flags.base})` : '',
        r.superseded.length
          ? `recorded the fix to ${r.superseded.join(', ')} as superseding the released checksum`
          : '',
      ].filter(Boolean);
      this.out(
        `lint: ${r.versions} versions, ${r.files} files OK${did.length ? `; ${did.join('; ')} in sql/checksums.lock` : ''}${base ? `; nothing released at ${base.ref} changed` : ''}`,
      );
      // Reported, not failed: verify and check then say they cannot compare those versions.
      const versions = [...new Set(r.noExpectedSchema.map((x) => x.split(' ')[0]))];
      for (const v of versions) {
        this.out(
          `lint: no expected schema for version ${v} (${r.noExpectedSchema
            .filter((x) => x.startsWith(`${v} `))
            .map((x) => x.split(' ')[1])
            .join(
              ', ',
            )}): make it with glance-db snapshot ${v} (--url an empty scratch database for PostgreSQL and MySQL)`,
        );
      }
    }
  }
}
