// Explicit command discovery: oclif imports this one module instead of
// globbing the commands folder (faster start-up, works from a bundle).
import Downgrade from './commands/downgrade.js';
import Sync from './commands/sync.js';
import Upgrade from './commands/upgrade.js';
import Version from './commands/version.js';

export const COMMANDS = {
  sync: Sync,
  version: Version,
  upgrade: Upgrade,
  downgrade: Downgrade,
};
