// Explicit command discovery: oclif imports this one module instead of
// globbing the commands folder (faster start-up, works from a bundle).
import Check from './commands/check.js';
import Downgrade from './commands/downgrade.js';
import History from './commands/history.js';
import Lint from './commands/lint.js';
import Plan from './commands/plan.js';
import Repair from './commands/repair.js';
import Snapshot from './commands/snapshot.js';
import Sync from './commands/sync.js';
import Upgrade from './commands/upgrade.js';
import Verify from './commands/verify.js';
import Version from './commands/version.js';

export const COMMANDS = {
  sync: Sync,
  version: Version,
  upgrade: Upgrade,
  downgrade: Downgrade,
  plan: Plan,
  check: Check,
  verify: Verify,
  lint: Lint,
  history: History,
  repair: Repair,
  snapshot: Snapshot,
};
