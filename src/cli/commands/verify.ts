import { differenceOf } from '../../core/introspect/diff.js';
import { handbackPlan, withHandback } from '../../glance/handback.js';
import { withGlanceExpand } from '../../glance/continue.js';
import { BaseCommand } from '../base-command.js';
import { driftOf, rollingDriftOf, type Drift } from '../../core/drift.js';
import { statusOf, withExistingDatabase } from '../../app/status.js';
import { notUnder } from '../../app/sync-refusals.js';
import { ExitCode, UnknownVersionError } from '../../platform/errors.js';
import { NoExpectedSchemaError } from '../../core/introspect/snapshot.js';
import { givenTarget, targetArg, type GivenTarget } from '../args.js';
import type { Driver } from '../../core/driver/driver.js';
import { releaseFlag } from '../flags.js';
import { goalJson, goalText } from '../../glance/goal.js';
import type { RunContext } from '../context.js';

/** During a rolling upgrade, verify --json says what the schema was compared with. */
const comparedWith = (r: NonNullable<Drift['rolling']>) => ({
  version: r.to,
  rollingUpgrade: true,
  contractPending: r.contractPending,
  allowedStates: r.states,
});

export default class Verify extends BaseCommand {
  static description =
    'Compare the live schema with the expected schema of the recorded version and print each difference (missing index, extra column, ' +
    'changed type, default or MySQL character set, a trigger, function, view or foreign-key action, a partial index predicate). ' +
    'A form Glance itself produced (a known variant, docs/variants.md) is reported in one line; during a rolling upgrade the schema is compared ' +
    'with the version it goes to, allowing what the pending contract phases still remove. ' +
    "With TARGET (zed, 50), the schema is compared with that version's instead: whether it is what that Glance release expects. Exit 0 when they match, 12 on drift.";
  static examples = [
    'glance-db verify',
    'glance-db verify zed   # is the schema what Glance zed expects (version 50)?',
    'glance-db verify --url postgresql://glance@db/glance --json',
  ];
  static args = {
    target: targetArg(
      'TARGET',
      "Compare with this version's schema (a number or a Glance release: zed, 2023.2, 28.0) instead of the recorded version's.",
    ),
  };
  static flags = { release: releaseFlag('Compare with the schema of this release') };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Verify);
    const given = givenTarget(args.target, flags.release, 'TARGET');
    const ctx = this.context(flags, false, given);
    const { version, drift, missing } = await withExistingDatabase(ctx, async (driver) => {
      const status = driver && (await statusOf(ctx, driver));
      if (!driver || !status) throw notUnder(ctx, 'verify');
      return given
        ? compareWithTarget(ctx, driver, status.version, given)
        : compareWithRecorded(ctx, driver, status.version);
    });
    if (!drift) {
      // Nothing to compare with (a version a site added, without glance-db snapshot): said in one line, not an error.
      return this.notCompared(ctx, version, missing!.message);
    }
    const differences = drift.unexplained;
    const r = drift.rolling;
    if (r && drift.notCompared) {
      // A rolling state nothing describes: not compared, said in one line, as for a version without an expected schema.
      return this.notCompared(ctx, version, `rolling upgrade to ${r.to} under way: ${drift.notCompared}`, {
        comparedWith: comparedWith(r),
      });
    }
    process.exitCode = differences.length ? ExitCode.SCHEMA_DRIFT : 0;
    const variant = drift.variant ? { id: drift.variant.id, producedBy: drift.variant.producedBy } : null;
    if (this.jsonMode) {
      this.emitJson({
        ok: differences.length === 0,
        version,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        differences: differences.map(differenceOf),
        variant,
        accepted: drift.accepted,
        ...(drift.partly ? { notCompared: drift.partly } : {}),
        ...(r ? { comparedWith: comparedWith(r) } : {}),
        ...(given ? { target: goalJson(ctx.goal!) } : {}),
      });
      return;
    }
    this.out(driftText(ctx, version, drift, variant, given));
  }

  /** Nothing to compare with (a version without an expected schema, or a rolling state nothing describes): one line, not an error. */
  private notCompared(
    ctx: RunContext,
    version: number | null,
    message: string,
    extra: Record<string, unknown> = {},
  ): void {
    if (this.jsonMode)
      this.emitJson({
        ok: true,
        version,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        compared: false,
        message,
        differences: [],
        variant: null,
        accepted: [],
        ...extra,
      });
    else this.out(`not compared: ${message}`);
  }
}

/** ", the database records 51" when the target is not the recorded version. */
const status = (recorded: number, target: number) =>
  recorded === target ? '' : ` (the database records version ${recorded})`;

/** What verify found: the recorded version, and the drift (null, with why, when there is no expected schema to compare with). */
interface Compared {
  version: number;
  drift: Drift | null;
  missing: NoExpectedSchemaError | null;
}

/** verify TARGET: whether the schema is what that version (that Glance release) expects, whatever the database records. */
async function compareWithTarget(
  ctx: RunContext,
  driver: Driver,
  recorded: number,
  given: GivenTarget,
): Promise<Compared> {
  if (!ctx.manifest.migrations.some((m) => m.version === given.version)) {
    throw new UnknownVersionError(
      `TARGET ${given.word} is version ${given.version}, which ${ctx.manifest.path} does not list, so there is no schema to compare with. Nothing was changed.`,
      'glance-db versions lists the versions and their Glance releases.',
    );
  }
  try {
    return {
      version: recorded,
      drift: await driftOf(ctx, driver, given.version, await driver.readHistory()),
      missing: null,
    };
  } catch (err) {
    if (!(err instanceof NoExpectedSchemaError)) throw err;
    return { version: recorded, drift: null, missing: err };
  }
}

/** verify: the schema against the recorded version's (during a rolling upgrade, the version it goes to). */
async function compareWithRecorded(ctx: RunContext, driver: Driver, recorded: number): Promise<Compared> {
  if (!ctx.manifest.migrations.some((m) => m.version === recorded)) {
    throw new UnknownVersionError(
      `The database records version ${recorded}, which ${ctx.manifest.path} does not list, so there is no schema to compare it with. Nothing was changed.`,
      'Pass the manifest that lists it with --config, or use the glance-db release that recorded it.',
    );
  }
  try {
    // What glance-manage did since glance-db's last write counts as done (as for check and version).
    const rows = withHandback(await driver.readHistory(), await handbackPlan(ctx, driver, await driver.readHistory()));
    // A rolling upgrade under way is between two versions by design: compared with the one it goes to.
    // glance-manage's own expand is judged as glance-db migrate would record it (glance/continue.ts).
    const rolled = await withGlanceExpand(ctx, driver, rows);
    const drift = (await rollingDriftOf(ctx, driver, rolled)) ?? (await driftOf(ctx, driver, recorded, rows));
    return { version: recorded, drift, missing: null };
  } catch (err) {
    if (!(err instanceof NoExpectedSchemaError)) throw err;
    return { version: recorded, drift: null, missing: err };
  }
}

/** verify's text: the differences, or what the schema matches; then the accepted differences and what was only partly compared. */
function driftText(
  ctx: RunContext,
  version: number,
  drift: Drift,
  variant: { id: string; producedBy: string } | null,
  given: GivenTarget | undefined,
): string {
  const differences = drift.unexplained;
  const r = drift.rolling;
  const accepted = drift.accepted.length
    ? `\n${drift.accepted.length} difference(s) accepted with sync --accept-drift:\n${drift.accepted.map((d) => `  ${d}`).join('\n')}`
    : '';
  const partly = drift.partly ? `\n(${drift.partly})` : '';
  // During a rolling upgrade: "version 51 as a rolling upgrade leaves it before the contract of 45, 46".
  const what = given
    ? `version ${goalText(ctx.goal!)}${status(version, given.version)}`
    : r
      ? `version ${r.to} as the rolling upgrade under way leaves it until the contract phase of ${r.contractPending.join(', ')}`
      : `version ${version}`;
  const at = r && r.contractPending.length === 0 ? `version ${r.to} (rolling upgrade under way)` : what;
  if (differences.length > 0 && given)
    return `schema differs from version ${goalText(ctx.goal!)}${status(version, given.version)}: ${differences.length} difference(s)\n${differences.map((d) => `  ${d}`).join('\n')}${accepted}${partly}`;
  if (differences.length > 0)
    return `schema drift ${r ? `during the rolling upgrade to ${r.to}` : `at version ${version}`}: ${differences.length} difference(s)\n${differences.map((d) => `  ${d}`).join('\n')}${accepted}${partly}`;
  if (variant)
    return `schema matches ${at} as known Glance variant ${variant.id}: ${variant.producedBy}${accepted}${partly}`;
  return `schema matches ${at}${accepted}${partly}`;
}
