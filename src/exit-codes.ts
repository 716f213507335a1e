// The exit codes in words, for --help (the README "Exit codes" table is the
// full reference; test/habits checks that every ExitCode is listed here).
import { ExitCode, type ExitCodeName } from './errors.js';

export const EXIT_CODE_MEANINGS: Record<ExitCodeName, string> = {
  OK: 'success, including "already at that version"',
  INTERNAL: 'internal error (a bug: rerun with GLANCE_DB_DEBUG=1)',
  USAGE: 'usage error: bad arguments or flags',
  CONFIG: 'configuration error: manifest, Glance config or URL; no database named; a version file holding transaction control',
  CHECKSUM_MISMATCH: 'an applied SQL file changed on disk',
  NOT_UNDER_VERSION_CONTROL: 'the database is not under glance-db version control',
  DOWNGRADE_REFUSED: 'downgrade refused',
  MIGRATION_FAILED: 'a migration failed',
  LOCKED: 'another glance-db run holds the lock, or (SQLite) another program holds SQLite\'s lock on the file (--lock-wait ran out), or the lock\'s own statements kept failing (deadlock, Galera) past their retries',
  CONNECTION: 'cannot connect to the database server',
  CONFLICT: 'the SQLite file was changed by a program that ignores SQLite\'s locks; not overwritten',
  UNKNOWN_VERSION: 'the database records a version or revision this glance-db does not know',
  SCHEMA_DRIFT: 'schema drift: the live schema is not the one its version claims',
  UPGRADE_PENDING: 'check: an upgrade is pending',
  PARTLY_APPLIED: 'check: a version is partly applied (MySQL)',
  BACKUP_FAILED: '--backup could not be taken; nothing changed',
  HISTORY_GAP: 'the version table lacks a version below its recorded level (rows deleted by hand); nothing changed',
  NO_SPACE: 'not enough free disk space to write the SQLite file back; nothing changed',
  CONNECTION_LOST: 'the connection to the server was lost or went silent mid-run; the run stopped',
  LOCK_LOST: 'MySQL: another run took over the migration lock while this one was paused; nothing more changed',
  INTERRUPTED: 'interrupted by SIGINT/SIGTERM; the running statement was cancelled on the server',
  REPAIR_REFUSED: 'repair refused: the live schema does not show where the database is; nothing changed',
  FILE_REFUSED: 'the SQLite file or its folder is refused for safety or type; nothing changed',
  SQLITE_UNUSABLE: 'the SQLite file needs a real SQLite first (WAL, hot journal) or is damaged',
  METADEFS_INVALID: 'metadefs: a namespace document is invalid or unreadable, or holds a value the database cannot store as written; nothing loaded',
  DATA_FAILED: 'metadefs load: a statement failed, the whole load rolled back; purge: a statement failed, that batch rolled back',
  PREFLIGHT: 'a pre-flight check refused the server (Galera node not ready, RSU, a needed setting)',
  OUTPUT_NOT_WRITABLE: 'an output file or folder cannot be written or is refused (plan --output, snapshot, lint --update, --backup-dir: a link, pipe or device at the name, /proc, /sys, /dev, the installed package)',
  ROLLING_ORDER: 'a rolling-upgrade phase out of order (migrate or contract before expand, contract before migrate or while rows still need it); nothing changed',
  DB_CHECK_OTHER: "db check: a state glance-manage's codes 0/3/4/5 cannot express (drift, gap, partly applied...); glance-db check names it",
};

/** [code, meaning] rows in numeric order; codes added to ExitCode without a meaning still appear. */
export function exitCodeRows(): Array<[string, string]> {
  return (Object.entries(ExitCode) as Array<[ExitCodeName, number]>)
    .sort((a, b) => a[1] - b[1])
    .map(([name, code]) => [String(code), (EXIT_CODE_MEANINGS as Record<string, string | undefined>)[name] ?? name]);
}
