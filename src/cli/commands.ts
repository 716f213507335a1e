// Explicit command discovery: oclif imports this one module instead of
// globbing the commands folder (faster start-up, works from a bundle).
import Check from './commands/check.js';
import Contract from './commands/contract.js';
import DbCheck from './commands/db/check.js';
import DbPurgeImagesTable from './commands/db/purge-images-table.js';
import DbPurge from './commands/db/purge.js';
import Downgrade from './commands/downgrade.js';
import Expand from './commands/expand.js';
import History from './commands/history.js';
import Lint from './commands/lint.js';
import MetadefsDiff from './commands/metadefs/diff.js';
import MetadefsExport from './commands/metadefs/export.js';
import MetadefsLoad from './commands/metadefs/load.js';
import MetadefsUnload from './commands/metadefs/unload.js';
import Migrate from './commands/migrate.js';
import Plan from './commands/plan.js';
import PurgeImages from './commands/purge-images.js';
import Purge from './commands/purge.js';
import Repair from './commands/repair.js';
import Snapshot from './commands/snapshot.js';
import Sync from './commands/sync.js';
import Upgrade from './commands/upgrade.js';
import Verify from './commands/verify.js';
import Version from './commands/version.js';
import Versions from './commands/versions.js';

export const COMMANDS = {
  sync: Sync,
  version: Version,
  versions: Versions,
  upgrade: Upgrade,
  downgrade: Downgrade,
  plan: Plan,
  check: Check,
  'db:check': DbCheck,
  expand: Expand,
  migrate: Migrate,
  contract: Contract,
  verify: Verify,
  lint: Lint,
  'metadefs:load': MetadefsLoad,
  'metadefs:diff': MetadefsDiff,
  'metadefs:export': MetadefsExport,
  'metadefs:unload': MetadefsUnload,
  purge: Purge,
  'purge-images': PurgeImages,
  'db:purge': DbPurge,
  'db:purge_images_table': DbPurgeImagesTable,
  history: History,
  repair: Repair,
  snapshot: Snapshot,
};
