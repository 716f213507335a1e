// The user glance-db runs as (its effective uid), for the SQLite file's
// checks of who owns the file and its folder (src/dialects/sqlite/file-checks.ts).
// The process is cli's: src/cli/base-command.ts hands the uid in as a run
// starts. Without it (a driver used outside the CLI, or a system without
// uids) the checks take the same defaults as where there are no uids.

let euid: number | undefined;

/** Put in place by the CLI as a run starts: process.geteuid(), undefined where there is none. */
export function useRunningUser(id: number | undefined): void {
  euid = id;
}

/** The effective uid the CLI handed in, or undefined. */
export function runningUser(): number | undefined {
  return euid;
}
