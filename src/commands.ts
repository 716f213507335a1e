// Explicit command discovery: oclif imports this one module instead of
// globbing the commands folder (faster start-up, works from a bundle).
import Check from './commands/check.js';
import Downgrade from './commands/downgrade.js';
import Lint from './commands/lint.js';
import Plan from './commands/plan.js';
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
  verify: Verify,
  lint: Lint,
};
