import { BaseCommand } from '../base-command.js';
import { schemaDifferences } from '../engine/adopt.js';
import { readStatus, withExistingDatabase } from '../engine/status.js';
import { ExitCode, UnknownVersionError } from '../errors.js';
import { NoExpectedSchemaError } from '../introspect/snapshot.js';

export default class Verify extends BaseCommand {
  static description =
    'Compare the live schema with the expected schema of the recorded version and print each difference (missing index, extra column, ' +
    'changed type or default). Exit 0 when they match, 12 on drift.';
  static examples = ['glance-db verify', 'glance-db verify --url postgresql://glance@db/glance --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Verify);
    const ctx = this.context(flags);
    const { version } = await readStatus(ctx, 'verify');
    if (!ctx.manifest.migrations.some((m) => m.version === version)) {
      throw new UnknownVersionError(`The database records version ${version}, which ${ctx.manifest.path} does not list, so there is no schema to compare it with. Nothing was changed.`,
        'Pass the manifest that lists it with --config, or use the glance-db release that recorded it.');
    }
    let missing: NoExpectedSchemaError | null = null;
    const differences = await withExistingDatabase(ctx, (driver) => schemaDifferences(ctx, driver!, version)).catch((err) => {
      if (!(err instanceof NoExpectedSchemaError)) throw err;
      missing = err;
      return [];
    });
    if (missing) {
      // Nothing to compare with: said in one line, not an error.
      if (this.jsonMode) this.emitJson({ ok: true, version, compared: false, message: (missing as NoExpectedSchemaError).message, differences: [] });
      else this.out(`not compared: ${(missing as NoExpectedSchemaError).message}`);
      return;
    }
    process.exitCode = differences.length ? ExitCode.SCHEMA_DRIFT : 0;
    if (this.jsonMode) this.emitJson({ ok: differences.length === 0, version, differences });
    else if (differences.length === 0) this.out(`schema matches version ${version}`);
    else this.out(`schema drift at version ${version}: ${differences.length} difference(s)\n${differences.map((d) => `  ${d}`).join('\n')}`);
  }
}
