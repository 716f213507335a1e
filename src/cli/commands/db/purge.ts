import {
  ageFlag,
  batchSizeFlag,
  dryRunFlag,
  managePurgeFlags,
  manageMaxRowsFlag,
  PURGE_TABLES_TEXT,
  PurgeCommand,
} from '../purge.js';

/** glance-manage db purge: its flags in its meaning (--max_rows: at most that many rows per table per run, default 100). */
export default class DbPurge extends PurgeCommand {
  static description =
    `glance-manage's db purge: delete soft-deleted rows older than --age_in_days (default 30) from every Glance table except images (${PURGE_TABLES_TEXT}), ` +
    'at most --max_rows rows per table in this run (default 100; -1 no limit; 0 none), the oldest deleted first, as glance-manage does (the throttle of a nightly cron); ' +
    'in batches of --batch-size, one transaction each. Rows flagged deleted only (glance-manage also takes rows with a deleted_at but deleted false). glance-db purge is the same without the limit by default.';
  static examples = [
    'glance-db db purge --age_in_days 30 --max_rows 100',
    'glance-db db purge --age_in_days 90 --max_rows -1',
  ];
  static flags = {
    age_in_days: ageFlag(30, true),
    max_rows: manageMaxRowsFlag,
    'batch-size': batchSizeFlag,
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DbPurge);
    await this.purgeRun(() => this.context(flags), false, managePurgeFlags(flags));
  }
}
