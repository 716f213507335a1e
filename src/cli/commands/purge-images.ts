import {
  ageFlag,
  batchSizeFlag,
  dryRunFlag,
  oldMaxRowsFlag,
  ownPurgeFlags,
  PurgeCommand,
  tableLimitFlag,
} from './purge.js';

export const PURGE_IMAGES_TEXT =
  'WARNING (OSSN-0075): once an image row is purged, its ID can be used again, and a new image with that ID could be mistaken for the old one by anyone ' +
  'who still refers to it; keep the age long, and purge images only if you must. Images that child rows (properties, tags, locations, members) still refer to are kept and counted: ' +
  "those whose child rows are all soft-deleted and old enough are freed by running purge first; a live child row is not purge's to remove, and keeps its image.";

export default class PurgeImages extends PurgeCommand {
  static description =
    'Delete soft-deleted rows of the images table (deleted = true, deleted_at older than --age-in-days, default 180), in batches of --batch-size ' +
    '(with --table-limit N: at most N rows in this run, the oldest first). ' +
    PURGE_IMAGES_TEXT +
    " glance-manage's form: db purge_images_table.";
  static examples = [
    'glance-db purge-images --age-in-days 365 --dry-run',
    'glance-db purge-images --age-in-days 365 --batch-size 500',
  ];
  static flags = {
    'age-in-days': ageFlag(180),
    'batch-size': batchSizeFlag,
    'max-rows': oldMaxRowsFlag,
    'table-limit': tableLimitFlag,
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PurgeImages);
    await this.purgeRun(
      () => this.context(flags),
      true,
      ownPurgeFlags(flags, (t) => this.note(t), 'purge-images'),
    );
  }
}
