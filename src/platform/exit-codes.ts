// The one table of glance-db's exit codes: number, name, a short meaning and
// when it happens. Everything else reads it: errors.ts takes ExitCode from
// here, help ends with its short meanings, and scripts/gen-docs.mjs writes
// README.md's exit-code section, docs/reference/exit-codes.md and the man
// page's EXIT STATUS from it (npm run docs; test/docs-unit fails when they are
// stale). Exit codes are part of the interface: never renumber, only add.
// This module imports nothing, so that anything may import it.

export interface ExitCodeEntry {
  /** The process exit status. */
  readonly code: number;
  /** The stable name: GlanceDbError.code and --json's error.code. */
  readonly name: string;
  /** One line, for --help. */
  readonly meaning: string;
  /**
   * When it happens, in full (Markdown). Links are relative to docs/, as
   * `[Files glance-db writes](guide/files.md)`; the generator points them
   * from wherever the text is written.
   */
  readonly when: string;
}

export const EXIT_CODES = [
  {
    code: 0,
    name: 'OK',
    meaning: 'success, including "already at that version"',
    when: 'success, including "already at that version"',
  },
  {
    code: 1,
    name: 'INTERNAL',
    meaning: 'internal error (a bug: rerun with GLANCE_DB_DEBUG=1)',
    when: 'unexpected internal error (a bug: rerun with `GLANCE_DB_DEBUG=1` for the stack trace)',
  },
  {
    code: 2,
    name: 'USAGE',
    meaning: 'usage error: bad arguments or flags',
    when:
      'usage error: bad arguments or flags (VERSION not an integer, unknown version, CURRENT_VERSION above VERSION or contradicting the version table, ' +
      '`lint --base` with a ref git does not know, `lint --supersede` without `--update` or for a version with no changed released file)',
  },
  {
    code: 3,
    name: 'CONFIG',
    meaning:
      'configuration error: manifest, Glance config or URL; no database named; a version file holding transaction control',
    when:
      'configuration error: manifest missing or invalid, a referenced file missing, a version file holding transaction control (`BEGIN`, `COMMIT`, ...; ' +
      'named with file, line and statement), unsupported URL, no database named; `lint`: a new or (with `--base`) an edited draft version not recorded yet, ' +
      '`--base` without git, outside a git repository, or naming a commit without `sql/checksums.lock`',
  },
  {
    code: 4,
    name: 'CHECKSUM_MISMATCH',
    meaning: 'an applied SQL file changed on disk',
    when:
      "checksum mismatch: an applied file has changed on disk (or a partly applied MySQL version's applied statements changed); a file a fix superseded " +
      'in `sql/checksums.lock` is not a mismatch. `lint`: a released file changed, or the lock edited by hand',
  },
  {
    code: 5,
    name: 'NOT_UNDER_VERSION_CONTROL',
    meaning: 'the database is not under glance-db version control',
    when: 'the database is not under glance-db version control (or holds tables but no version table)',
  },
  {
    code: 6,
    name: 'DOWNGRADE_REFUSED',
    meaning: 'downgrade refused',
    when: 'downgrade refused; the message gives the steps to restore the backup ([Downgrade and restore](guide/upgrading.md#downgrade-and-restore))',
  },
  {
    code: 7,
    name: 'MIGRATION_FAILED',
    meaning: 'a migration failed',
    when:
      'a migration failed (SQLite/PostgreSQL: rolled back to the previous version, which the message says only when the database shows it; ' +
      'MySQL: resumable, see [MySQL and MariaDB](dialects/mysql.md#progress-after-every-statement))',
  },
  {
    code: 8,
    name: 'LOCKED',
    meaning:
      "another glance-db run holds the lock, or (SQLite) another program holds SQLite's lock on the file (--lock-wait ran out), or the lock's own statements kept failing (deadlock, Galera) past their retries",
    when:
      "another glance-db run holds the migration lock, and `--lock-wait` ran out; or (SQLite) another program holds SQLite's own lock on the file past " +
      '`--lock-wait`: a writer in the middle of a transaction when glance-db starts, any program with a WAL-mode file open, or a read left open when ' +
      "glance-db is about to replace the file (nothing changed; the message names the file); or (MySQL/MariaDB) the lock's own statements kept failing " +
      'with a deadlock or lost Galera certification (1213), a lock wait timeout (1205) or a node not ready (1047) after a few retries with a short jittered pause',
  },
  {
    code: 9,
    name: 'CONNECTION',
    meaning: 'cannot connect to the database server',
    when: 'cannot connect to the database server',
  },
  {
    code: 10,
    name: 'CONFLICT',
    meaning: "the SQLite file was changed by a program that ignores SQLite's locks; not overwritten",
    when:
      "the SQLite file was changed by another program while glance-db worked; not overwritten. SQLite writers are held off by SQLite's own lock and " +
      "never cause it: it means a program that ignores SQLite's locks (a copy or restore over the file, a file synchronizer)",
  },
  {
    code: 11,
    name: 'UNKNOWN_VERSION',
    meaning: 'the database records a version or revision this glance-db does not know',
    when:
      "the database records a version this manifest does not know (upgraded by a newer glance-db), or Glance's own bookkeeping names a revision " +
      'glance-db does not know or a legacy version below 42',
  },
  {
    code: 12,
    name: 'SCHEMA_DRIFT',
    meaning: 'schema drift: the live schema is not the one its version claims',
    when:
      'schema drift: the live schema is not the one its version claims nor a known Glance variant (a hand-edited database; `sync` and `upgrade` too, ' +
      'unless `--accept-drift`); nothing changed, the differences are listed ([Schema drift](guide/schema-drift.md)). `metadefs`, `purge`: a table they work on is missing',
  },
  {
    code: 13,
    name: 'UPGRADE_PENDING',
    meaning: 'check: an upgrade is pending; purge: a rolling upgrade is open (a migrate could race it)',
    when:
      '`check`: an upgrade is pending. `purge`, `purge-images`: a rolling upgrade is open (expanded, not yet contracted), where a migrate could race the purge, ' +
      'or the version bookkeeping changed between two batches (another glance-db run or glance-manage; the batches before stay purged, the next run continues); ' +
      "`metadefs`: version 44's data step is still to migrate ([Metadata definitions and purge](guide/metadefs-and-purge.md))",
  },
  {
    code: 14,
    name: 'PARTLY_APPLIED',
    meaning: 'check, metadefs, purge: a version is partly applied (MySQL)',
    when: '`check`, `metadefs`, `purge`: a version is partly applied (MySQL: fix the cause, then sync resumes)',
  },
  {
    code: 15,
    name: 'BACKUP_FAILED',
    meaning: '--backup could not be taken; nothing changed',
    when: '`--backup` could not be taken (tool missing or failed), or its file could not be written (a link, pipe or file already at its name, a full disk); nothing changed',
  },
  {
    code: 16,
    name: 'HISTORY_GAP',
    meaning: 'the version table lacks a version below its recorded level (rows deleted by hand); nothing changed',
    when:
      'the version table has no complete row for a version below its recorded level (a row deleted or edited by hand): `check`, `version`, `verify`, ' +
      '`plan` and `sync` all refuse, and nothing old is run to fill it (`glance-db repair`; [Stuck states](guide/stuck-states.md))',
  },
  {
    code: 17,
    name: 'NO_SPACE',
    meaning: 'not enough free disk space to write the SQLite file back; nothing changed',
    when:
      "not enough free disk space to write the SQLite file back (checked before writing: the file's size plus 1 MiB; a disk that fills up during the " +
      'write ends the same way); the file stays as it was before the run, no temporary file is left',
  },
  {
    code: 18,
    name: 'CONNECTION_LOST',
    meaning: 'the connection to the server was lost or went silent mid-run; the run stopped',
    when:
      'PostgreSQL/MySQL: the connection was lost mid-run (reset, the server ended the session or stopped, or no answer within `--io-timeout`); ' +
      'the run stopped: PostgreSQL rolled the version in progress back, MySQL left it resumable ([Networks, pauses and signals](guide/networks-and-signals.md))',
  },
  {
    code: 19,
    name: 'LOCK_LOST',
    meaning: 'MySQL: another run took over the migration lock while this one was paused; nothing more changed',
    when:
      'MySQL: this run lost the migration lock (another run took it over while this one was paused or cut off past the lock lease); ' +
      'this run stopped and changed nothing more',
  },
  {
    code: 20,
    name: 'FILE_REFUSED',
    meaning: 'the SQLite file or its folder is refused for safety or type; nothing changed',
    when:
      'the SQLite file or its folder is refused for safety or type: not a regular file (a device such as `/dev/null`, a folder, a pipe), a dangling ' +
      'symbolic link, a hard-linked file (more than one name), a read-only file, a file whose owner glance-db cannot keep, a folder writable by every user ' +
      'without the sticky bit, a read-only folder or file system, a lock file that is a symbolic link or cannot be created; nothing changed',
  },
  {
    code: 21,
    name: 'SQLITE_UNUSABLE',
    meaning: 'the SQLite file needs a real SQLite first (WAL, hot journal) or is damaged',
    when:
      'the SQLite file needs a real SQLite first or is damaged: a write-ahead log (`FILE-wal`) holding committed transactions, a hot rollback journal ' +
      '(`FILE-journal`), a truncated file or one SQLite calls malformed; nothing changed, and the message gives the `sqlite3` command to run',
  },
  {
    code: 22,
    name: 'INTERRUPTED',
    meaning: 'interrupted by SIGINT/SIGTERM; the running statement was cancelled on the server',
    when:
      'PostgreSQL/MySQL: interrupted by SIGINT or SIGTERM; the running statement was cancelled on the server and the connection closed ' +
      '(PostgreSQL rolled back, MySQL resumable)',
  },
  {
    code: 24,
    name: 'REPAIR_REFUSED',
    meaning: 'repair refused: the live schema does not show where the database is; nothing changed',
    when: '`repair` refused: the live schema does not show where the database is (it matches no known version, or not the one the fix needs); nothing changed',
  },
  {
    code: 28,
    name: 'METADEFS_INVALID',
    meaning:
      'metadefs: a namespace document is invalid or unreadable, or holds a value the database cannot store as written; nothing loaded',
    when:
      "`metadefs`: a namespace document is invalid or unreadable (not UTF-8, nested more than 100 levels, a number beyond a double's range), holds a " +
      "value the database cannot store as written (a column's length or character set, U+0000 on PostgreSQL), or the metadefs folder is missing or holds " +
      'no `.json` file (each problem named with file, line and JSON path); nothing was loaded. `metadefs export`: the target folder cannot be written or ' +
      "is refused (a folder in `/proc`, `/sys` or `/dev`, a link another user owns among its folders, a link, pipe or device at a namespace file's name; " +
      'see [Files glance-db writes](guide/files.md))',
  },
  {
    code: 29,
    name: 'DATA_FAILED',
    meaning:
      'metadefs load: a statement failed, the whole load rolled back; purge: a statement failed, that batch rolled back',
    when:
      '`metadefs load`: a statement failed in the database; the load is one transaction and was rolled back whole, nothing was written. `purge`: a ' +
      'statement failed; that batch was rolled back, the batches before it stay committed. Rerun after fixing the cause',
  },
  {
    code: 32,
    name: 'PREFLIGHT',
    meaning: 'a pre-flight check refused the server (Galera node not ready, RSU, a needed setting)',
    when:
      'a pre-flight check refused the server before anything changed: a Galera node not Synced, not in the Primary component, desynced or with ' +
      '`wsrep_OSU_method` RSU, or a setting a pending version needs (`log_bin_trust_function_creators`); see [Galera clusters and PgBouncer](guide/clusters.md)',
  },
  {
    code: 34,
    name: 'OUTPUT_NOT_WRITABLE',
    meaning:
      'an output file or folder cannot be written or is refused (plan --output, snapshot, lint --update, --backup-dir: a link, pipe or device at the name, /proc, /sys, /dev, the installed package)',
    when:
      'a file glance-db was asked to write cannot be written: `plan --output`, `snapshot` or `lint --update` (missing folder, read-only place, a file ' +
      'in the path; a symbolic link, a folder, a pipe or a device at the name; a link another user owns among the folders; a place in `/proc`, `/sys`, ' +
      "`/dev` or inside glance-db's installed package, `snapshot` without a manifest of your own; a read-only or unwritable `sql/checksums.lock`), a " +
      '`--backup-dir` that is a file, a link another user owns, or cannot be created (checked before the database is opened); see ' +
      '[Files glance-db writes](guide/files.md); nothing changed',
  },
  {
    code: 35,
    name: 'ROLLING_ORDER',
    meaning:
      'a rolling-upgrade phase out of order (migrate or contract before expand, contract before migrate or while rows still need it); nothing changed',
    when:
      'a rolling-upgrade phase asked for out of order: `migrate` or `contract` with no rolling upgrade under way (run `expand` first) or before its ' +
      'expand phase is finished, `contract` before `migrate`, or `contract` while rows still need the migrate phase (the count per version; run ' +
      "`migrate`); nothing changed. Also `expand` or `contract` on a rolling upgrade Glance's own tool began (run `migrate`, which continues it, or `sync`, which finishes it) " +
      '([Rolling upgrade](guide/rolling-upgrade.md))',
  },
  {
    code: 36,
    name: 'DB_CHECK_OTHER',
    meaning:
      "db check: a state glance-manage's codes 0/3/4/5 cannot express (drift, gap, partly applied...); glance-db check names it",
    when:
      "`db check` only: a state glance-manage's codes (0, 3, 4, 5) cannot express: drift, a gap, a partly applied version, a changed file, a " +
      'configuration error; the line (and `glance-db check`) says which ([db check](guide/rolling-upgrade.md#glance-db-db-check))',
  },
  {
    code: 37,
    name: 'PRIVILEGE',
    meaning: 'the database user lacks a privilege the command needs (the server refused a statement for it)',
    when:
      'the database server refused one of glance-db\'s own statements for lack of a privilege (PostgreSQL 42501 "permission denied"; MySQL/MariaDB ' +
      '1044, 1142, 1143, 1227, 1370 "command denied"): read commands need SELECT on Glance\'s tables and the version table, `sync`, the phases, ' +
      '`repair`, `metadefs` and `purge` need what glance-manage needs (all privileges on the database); the statement and its transaction did ' +
      "not take effect ([The database user's privileges](guide/database.md#the-database-users-privileges))",
  },
] as const satisfies readonly ExitCodeEntry[];

type Entry = (typeof EXIT_CODES)[number];
export type ExitCodeName = Entry['name'];

/** Name to number, as errors.ts has always exported it (ExitCode.CONFIG === 3). */
export const ExitCode: { readonly [E in Entry as E['name']]: E['code'] } = Object.freeze(
  Object.fromEntries(EXIT_CODES.map((e) => [e.name, e.code])) as { [E in Entry as E['name']]: E['code'] },
);

/** [code, meaning] rows in numeric order, for --help. */
export function exitCodeRows(): Array<[string, string]> {
  return [...EXIT_CODES].sort((a, b) => a.code - b.code).map((e) => [String(e.code), e.meaning]);
}
