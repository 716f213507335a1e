import { BaseCommand } from '../base-command.js';
import { ageFlag, dryRunFlag, maxRowsFlag, PurgeCommand } from './purge.js';


export default class PurgeImages extends PurgeCommand {
  static aliases = ['db:purge-images', 'db:purge_images_table'];
  static description =
    'Delete soft-deleted rows of the images table (deleted = true, deleted_at older than --age-in-days, default 180), in batches of --max-rows. ' +
    'WARNING (OSSN-0075): once an image row is purged, its ID can be used again, and a new image with that ID could be mistaken for the old one by anyone ' +
    'who still refers to it; keep --age-in-days long, and purge images only if you must. Images that child rows (properties, tags, locations, members) still refer to are kept and counted: ' +
    'those whose child rows are all soft-deleted and old enough are freed by running purge first; a live child row is not purge\'s to remove, and keeps its image.';
  static examples = ['glance-db purge-images --age-in-days 365 --dry-run', 'glance-db db purge_images_table --age_in_days 365 --max_rows 100'];
  static flags = { 'age-in-days': ageFlag(180), 'max-rows': maxRowsFlag, 'dry-run': dryRunFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(PurgeImages);
    await this.purgeRun(() => this.context(flags), true, flags);
  }
}
