// What one run works with, resolved once by src/cli/context.ts (flags,
// environment, manifest) and handed down to the use cases and the engine:
// the manifest, the database, the driver's settings, and what a suggested
// command repeats. Nothing here reads the process: cli fills it in.
import type { Manifest } from './manifest/types.js';
import type { DatabaseTarget } from '../platform/url.js';
import type { Driver, DriverConfig } from './driver/driver.js';
import type { ProjectRules } from './rules.js';

/** The version a run aims at, as the engine needs it; the project's own goal says more (why that version). */
export interface RunGoal {
  version: number;
  /** The word a suggested command carries (zed, 2023.1, 50); null when nothing asked for one. */
  word: string | null;
}

export interface RunContext<G extends RunGoal = RunGoal> {
  manifest: Manifest;
  target: DatabaseTarget;
  /** Where the URL came from, for messages: --url, GLANCE_DB_URL or the manifest. */
  urlSource: string;
  toolVersion: string;
  /** user@host of whoever runs glance-db, recorded in the version table's run_by. */
  runBy: string;
  driverConfig(): DriverConfig;
  /** Makes the driver for driverConfig(): src/dialects/create-driver.ts's createDriver unless set (the engine's unit tests give a fake). */
  createDriver?: (config: DriverConfig) => Promise<Driver>;
  /** The project's hooks into the engine (src/core/rules.ts), which cli puts here. */
  rules: ProjectRules;
  /** The flags that selected the manifest and the database, shell-quoted, password left out: suggested commands repeat them. */
  selection: string[];
  /** The version this run aims at: given, the installed application's, or the newest (the project's goal). Suggested commands carry it. */
  goal?: G;
  /** The environment cli runs in: a tool glance-db starts (a dump tool for --backup) is found on its PATH and gets it. */
  env?: NodeJS.ProcessEnv;
  /** Sync runs phased versions through their phases as on a Galera node (GLANCE_DB_SYNC_BY_PHASES=1, src/core/rolling.ts). */
  syncByPhases?: boolean;
  /** For stderr: where another source named a different database, which one won and why (never a password). */
  notices?: string[];
}

/** The commands whose suggestion carries the target (`glance-db sync zed`): without it they would aim at another version. */
const CARRIES_GOAL = /^(db )?(sync|expand|upgrade|check)$/;

/**
 * A glance-db command line to suggest, carrying the configuration and URL options the user gave,
 * and the target (the run's goal) where the command takes one: never a version past the one this run aims at.
 */
export function suggest(ctx: Pick<RunContext, 'selection'> & { goal?: RunGoal }, args: string): string {
  const word = ctx.goal?.word && CARRIES_GOAL.test(args) ? ctx.goal.word : '';
  return ['glance-db', args, word, ...ctx.selection].filter(Boolean).join(' ');
}
