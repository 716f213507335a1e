import { ageFlag, batchSizeFlag, dryRunFlag, managePurgeFlags, manageMaxRowsFlag, PurgeCommand } from '../purge.js';
import { PURGE_IMAGES_TEXT } from '../purge-images.js';

/** glance-manage db purge_images_table: its flags in its meaning (--max_rows: at most that many images per run, default 100). */
export default class DbPurgeImagesTable extends PurgeCommand {
  static aliases = ['db:purge-images'];
  static description =
    "glance-manage's db purge_images_table: delete soft-deleted rows of the images table older than --age_in_days (default 180), " +
    'at most --max_rows in this run (default 100; -1 no limit; 0 none), the oldest deleted first, as glance-manage does; in batches of --batch-size. ' +
    PURGE_IMAGES_TEXT;
  static examples = ['glance-db db purge_images_table --age_in_days 365 --max_rows 100'];
  static flags = {
    age_in_days: ageFlag(180, true),
    max_rows: manageMaxRowsFlag,
    'batch-size': batchSizeFlag,
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DbPurgeImagesTable);
    await this.purgeRun(() => this.context(flags), true, managePurgeFlags(flags));
  }
}
