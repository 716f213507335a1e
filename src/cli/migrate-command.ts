// What sync and upgrade share: run the engine, print progress and the result.
import { Flags } from '@oclif/core';
import { BaseCommand } from './base-command.js';
import { defaultBackupDir } from '../app/backup.js';
import type { RunContext } from './context.js';
import { sync, type ProgressEvent, type SyncResult } from '../app/sync.js';
import { parseVersionOrRelease } from './args.js';
import { findRelease, revisionAt } from '../glance/releases.js';
import { installedGlance } from '../glance/installed.js';
import { installedText, resolveGoal } from '../glance/goal.js';
import { ProgressReporter, progressSeconds, statementLabel } from './progress.js';
import { plannedPhaseText, planText } from '../app/plan.js';
import { UsageError } from '../platform/errors.js';
import { redactUrl } from '../platform/url.js';
import { checkBackupDir } from '../platform/output.js';
import { terminalText } from './terminal.js';
import type { Phase } from '../core/manifest/types.js';
import { describeRolling, nextCommand, rollingJson } from '../core/phases.js';
import { suggest } from '../core/run-context.js';
import { dryRunPhase, dryRunSync, type SyncDryRunRequest } from '../app/dry-run.js';
import { writeOut, writeErr, stderrIsTTY } from '../platform/sink.js';

/** What the progress lines say as a phase starts, and when it is done. */
const PHASE_VERB: Record<Phase, [string, string]> = {
  expand: ['expanding', 'expanded'],
  migrate: ['migrating', 'migrated'],
  contract: ['contracting', 'contracted'],
};

export abstract class MigrateCommand extends BaseCommand {
  private backupPath: string | null = null;
  private variant: string | null = null;
  private acceptedDrift: string[] | null = null;

  static flags = {
    backup: Flags.boolean({
      description:
        'Back up the database before changing anything (SQLite: a copy of the file; PostgreSQL: pg_dump; MySQL: mariadb-dump/mysqldump).',
      default: false,
    }),
    'accept-drift': Flags.boolean({
      description:
        'Proceed although the schema differs from what its version says (a hand-made change glance-db lists), and record the differences in the version table; check then stays quiet about exactly those.',
      default: false,
    }),
    'dry-run': Flags.boolean({
      description:
        'Change nothing: make the checks sync makes (checksums, schema drift, downgrade) and print the SQL it would run, as plan does.',
      default: false,
    }),
    release: Flags.string({
      description:
        "Upgrade to the version this Glance release's glance-manage db sync reaches (zed, 2023.2, 28.0); the same as giving it as VERSION. glance-db versions lists them.",
    }),
    'backup-dir': Flags.string({
      description:
        'Where --backup writes [default: glance-db-backups next to the SQLite file, or in the working directory].',
    }),
  };

  private warnings: string[] = [];

  /** expand, migrate, contract: the phase of a rolling upgrade this command runs (commands/expand.ts ...); sync and upgrade: none. */
  protected phase?: Phase;

  protected async migrate(
    ctx: RunContext,
    version: number | undefined,
    currentVersion: number | undefined,
    requireVersionControl: boolean,
    flags: { backup: boolean; 'backup-dir'?: string; 'accept-drift'?: boolean; release?: string; 'dry-run'?: boolean },
  ): Promise<void> {
    if (flags['backup-dir'] !== undefined && !flags['backup-dir'].trim())
      throw new UsageError('--backup-dir is empty.', 'Give a folder, or leave --backup-dir out for the default.');
    if (flags.release !== undefined) {
      const byRelease = parseVersionOrRelease('--release', flags.release);
      if (version !== undefined && version !== byRelease)
        throw new UsageError(
          `VERSION ${version} and --release ${flags.release} (version ${byRelease}) disagree.`,
          'Give one of them.',
        );
      version = byRelease;
    }
    // The target: the one given, else the installed Glance's schema, else the newest (engine/goal.ts). migrate and contract
    // take none: they finish the rolling upgrade under way, wherever its expand went.
    ctx.goal = resolveGoal(
      ctx.manifest,
      version !== undefined
        ? { version, word: flags.release?.trim().toLowerCase() ?? this.releaseWord(version) }
        : undefined,
    );
    const defaultTarget = version === undefined && ctx.goal.source === 'installed';
    if (version === undefined && this.phase !== 'migrate' && this.phase !== 'contract') version = ctx.goal.version;
    this.out(`database: ${ctx.target.display} (from ${ctx.urlSource})`);
    this.target = ctx.target.display;
    if (ctx.goal.source === 'installed' && version === ctx.goal.version && !this.jsonMode)
      writeErr(
        terminalText(
          `target: version ${ctx.goal.version}, the schema of the installed Glance ${installedText(ctx.goal.installed!)} (${ctx.goal.installed!.where})\n`,
        ),
      );
    if (version !== undefined) this.warnPastInstalledGlance(version);
    if (flags['dry-run'])
      return this.phase
        ? this.dryRunPhase(ctx, this.phase, version)
        : this.dryRun(ctx, {
            version,
            currentVersion,
            requireVersionControl,
            acceptDrift: Boolean(flags['accept-drift']),
            defaultTarget,
          });
    const backupDir = flags.backup ? (flags['backup-dir'] ?? defaultBackupDir(ctx.target, process.cwd())) : undefined;
    // Before the database is opened: a bad folder must change nothing.
    if (backupDir) checkBackupDir(backupDir);
    let result;
    try {
      result = await sync(
        ctx,
        {
          version,
          currentVersion,
          requireVersionControl,
          backupDir,
          acceptDrift: flags['accept-drift'],
          ...(this.phase ? { phase: this.phase } : {}),
          ...(defaultTarget ? { defaultTarget } : {}),
        },
        (e) => this.progress(e),
      );
    } finally {
      this.stopIndicator();
    }
    this.report(ctx, result);
  }

  /** --dry-run: what sync would refuse is refused the same way; otherwise its plan. Opens nothing for writing, takes no lock. */
  private async dryRun(ctx: RunContext, req: SyncDryRunRequest): Promise<void> {
    const r = await dryRunSync(ctx, req, (text) => {
      this.warnings.push(text);
      if (!this.jsonMode) writeErr(terminalText(`warning: ${text}\n`));
    });
    const base = { ok: true, dryRun: true, dialect: ctx.target.dialect, database: ctx.target.display };
    if (r.kind === 'current') {
      if (this.jsonMode) this.emitJson({ ...base, from: r.from, to: r.from, versions: [] });
      else this.out(`dry run: nothing changed; already at version ${r.from}; nothing to do`);
      return;
    }
    const p = r.plan;
    if (this.jsonMode) {
      this.emitJson({
        ...base,
        from: p.from,
        to: p.to,
        versions: p.versions,
        ...(p.rolling ? { rolling: p.rolling } : {}),
        ...(this.warnings.length ? { warnings: this.warnings } : {}),
      });
      return;
    }
    const work = p.versions.length > 0 || p.rolling !== undefined;
    this.out(
      `dry run: nothing changed; ${work ? `sync would ${p.rolling ? `finish the rolling upgrade to ${p.rolling.state.to}, then ` : ''}run ${p.versions.length} version(s), ${p.from ?? 'empty'} -> ${p.to}:` : `already at version ${p.to}; nothing to do`}`,
    );
    if (work) writeOut(terminalText(planText(p)));
  }

  /**
   * Going past the schema of the Glance installed here leaves its
   * glance-manage unable to read the database ("Can't locate revision
   * 2024_1_contract01"): say so before starting, on stderr.
   */
  private warnPastInstalledGlance(target: number): void {
    const installed = installedGlance();
    const at = installed?.schemaVersion;
    if (!installed || at === null || at === undefined || target <= at) return;
    const r = installed.release;
    const text =
      `the installed Glance is ${installedText(installed)}, whose schema is version ${at}; going to ${target} ` +
      `(Alembic ${revisionAt(target) ?? '?'}) leaves a database its glance-manage cannot read. To stop at its schema: glance-db sync ${r && r.version === at ? (r.series ?? r.name) : at}.`;
    this.warnings.push(text);
    if (!this.jsonMode) writeErr(terminalText(`warning: ${text}\n`));
  }

  /** The word VERSION was given as (`zed` for `sync zed`), for suggested commands to repeat; else the number. */
  private releaseWord(version: number): string {
    const word = this.argv.find((a) => !a.startsWith('-') && findRelease(a)?.version === version);
    return word ? word.trim().toLowerCase() : String(version);
  }

  private reporter: ProgressReporter | null = null;

  /** Live line on a terminal; progress: lines on stderr otherwise (src/cli/progress.ts). */
  private indicate(label: string, announce: boolean): void {
    this.reporter ??= new ProgressReporter({
      tty: stderrIsTTY() && !this.jsonMode,
      everySeconds: progressSeconds(),
      write: (t) => writeErr(redactUrl(t)),
    });
    this.reporter.phase(label, announce);
  }

  private stopIndicator(): void {
    this.reporter?.stop();
  }

  private target = '';

  private batchLine = 0;

  private progress(e: ProgressEvent): void {
    // Inside the version's phase, which goes on.
    if (e.type === 'statement') return this.reporter?.detail(statementLabel(e.index, e.total, e.text));
    if (e.type === 'batch') return this.batchProgress(e);
    this.stopIndicator();
    if (e.type === 'phase-start') {
      this.batchLine = 0;
      return this.indicate(`${PHASE_VERB[e.phase][0]} ${e.version} ${e.name}`, true);
    }
    if (e.type === 'phase-done' && e.nothingToRun)
      return this.out(
        `recorded ${e.version} ${e.name} as ${PHASE_VERB[e.phase][1]}: nothing to run in its ${e.phase} phase`,
      );
    if (e.type === 'phase-done') {
      this.out(
        `${PHASE_VERB[e.phase][1]} ${e.version} ${e.name}${e.rows !== undefined ? `: ${e.rows} row(s) in ${(e.ms / 1000).toFixed(1)} s${e.ms > 0 ? `, ${Math.round((e.rows * 1000) / e.ms)} rows/s` : ''}` : ` (${e.ms} ms)`}`,
      );
      // The file's glance-db:report counts, for information.
      for (const r of e.reports ?? [])
        this.out(
          `  ${e.version} ${e.name}: ${r.value === null ? `could not count the ${r.label}` : `${r.value} ${r.label}`}`,
        );
      return;
    }
    if (e.type === 'phase-skipped')
      return this.out(`skipped ${e.phase} of ${e.version} ${e.name}: done meanwhile by another glance-db run`);
    if (e.type === 'opening') return this.indicate(`opening ${this.target}`, false);
    if (e.type === 'locking')
      return this.indicate('waiting for the migration lock (another glance-db run holds it)', false);
    if (e.type === 'backup-start') return this.indicate(`backing up ${this.target}`, true);
    if (e.type === 'start') return this.indicate(`applying ${e.version} ${e.name}`, true);
    if (e.type === 'backup') {
      this.backupPath = e.path;
      this.out(`backup: ${e.path}`);
    } else if (e.type === 'backup-skipped') this.out(`backup: skipped, ${e.reason}`);
    else if (e.type === 'baseline')
      this.out(`baseline: recorded versions ${ranges(e.versions)} as already applied (nothing run)`);
    else if (e.type === 'adopted')
      this.out(
        `adopted: took over from glance-manage (${e.source}); recorded versions ${ranges(e.versions)} (nothing run)`,
      );
    else if (e.type === 'recorded') this.out(`recorded: ${e.line}`);
    else if (e.type === 'variant') {
      this.variant = e.id;
      this.out(`variant: the schema is a form Glance itself produced: ${e.description}; recorded in the version table`);
    } else if (e.type === 'drift-accepted') {
      this.acceptedDrift = e.differences;
      this.out(
        `drift accepted (--accept-drift), recorded in the version table: ${e.differences.length} difference(s)\n${e.differences.map((d) => `  ${d}`).join('\n')}`,
      );
    } else if (e.type === 'applied') this.out(`applied ${e.version} ${e.name} (${e.ms} ms)`);
    else this.out(`skipped ${e.version} ${e.name}: applied meanwhile by another glance-db run`);
  }

  private report(ctx: RunContext, r: SyncResult): void {
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        ...(this.backupPath ? { backup: this.backupPath } : {}),
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        from: r.from,
        to: r.to,
        applied: r.applied,
        baselined: r.baselined,
        adopted: r.adopted,
        upToDate: r.upToDate,
        ...(this.variant ? { variant: this.variant } : {}),
        ...(this.acceptedDrift ? { acceptedDrift: this.acceptedDrift } : {}),
        ...(this.warnings.length ? { warnings: this.warnings } : {}),
        ...(this.phase || r.phases.length
          ? { phases: r.phases, current: r.current, rolling: rollingJson(r.rolling) }
          : {}),
      });
      return;
    }
    const past =
      ctx.goal?.source === 'installed' && r.to > ctx.goal.version
        ? ` (past the installed Glance ${installedText(ctx.goal.installed!)}, whose schema is version ${ctx.goal.version})`
        : '';
    if (!this.phase)
      return this.out(
        r.upToDate ? `already at version ${r.to}${past}; nothing to do` : `database is at version ${r.to}`,
      );
    const nothing = r.upToDate ? `nothing to ${this.phase}; ` : '';
    // Rows written since a migrate phase ran that still need it: migrate is next, and glance-manage's contract is kept out (issue 28).
    const left = r.unmigrated?.length
      ? `; ${r.unmigrated.reduce((t, x) => t + x.rows, 0)} row(s) written since migrate ran still need it (${r.unmigrated.map((x) => `version ${x.version} ${x.name}: ${x.rows}`).join('; ')}), so alembic_version keeps glance-manage from contracting; next: ${suggest(ctx, 'migrate')}`
      : null;
    this.out(
      r.rolling.underWay
        ? `${nothing}database is at version ${r.current}; ${describeRolling(r.rolling)}${left ?? `; next: ${nextCommand(ctx, r.rolling)}`}`
        : `${nothing}database is at version ${r.current}${r.current !== null && r.current < Math.min(r.to, ctx.goal?.version ?? r.to) ? ` (${Math.min(r.to, ctx.goal?.version ?? r.to)} is available: ${suggest(ctx, 'expand')} starts a rolling upgrade)` : ''}`,
    );
  }

  /** Rows done / total and the rate, at most every GLANCE_DB_PROGRESS_SECONDS (and after the first batch, so a watcher sees it begin). */
  private batchProgress(e: Extract<ProgressEvent, { type: 'batch' }>): void {
    const now = Date.now();
    if (this.batchLine !== 0 && now - this.batchLine < progressSeconds() * 1000 && e.rows !== 0) return;
    this.batchLine = now;
    const of = e.total !== null ? `/${e.total}` : '';
    const pct = e.total ? ` (${Math.min(100, Math.floor((e.done * 100) / e.total))}%)` : '';
    const rate = e.ms > 0 ? `, ${Math.round((e.done * 1000) / e.ms)} rows/s` : '';
    const text = `migrate ${e.version} ${e.name}: ${e.done}${of} rows${pct}${rate} (statement ${e.statement}/${e.statements}, batch ${e.batch})`;
    if (!this.jsonMode && !stderrIsTTY()) writeErr(`progress: ${text}\n`);
    else if (!this.jsonMode) this.indicate(text, false);
  }

  /** --dry-run of a phase command: the steps it would run, from the database as it is; nothing changed, no lock. */
  private async dryRunPhase(ctx: RunContext, phase: Phase, version: number | undefined): Promise<void> {
    const listed = await dryRunPhase(ctx, phase, version);
    if (this.jsonMode) {
      this.emitJson({
        ok: true,
        dryRun: true,
        dialect: ctx.target.dialect,
        database: ctx.target.display,
        phase,
        steps: listed,
      });
      return;
    }
    this.out(`dry run: nothing changed; ${phase} would run ${listed.length} step(s)${listed.length ? ':' : ''}`);
    for (const s of listed) this.out(plannedPhaseText(s));
  }
}

/** "42-48, 50": consecutive versions as ranges, so a version left pending is not listed. */
export function ranges(versions: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < versions.length;) {
    let j = i;
    while (j + 1 < versions.length && versions[j + 1] === versions[j] + 1) j++;
    out.push(i === j ? `${versions[i]}` : `${versions[i]}-${versions[j]}`);
    i = j + 1;
  }
  return out.join(', ');
}
