// Picks the driver for a URL's dialect and imports it only then, so a SQLite
// user never loads slonik or mysql2 (start-up time, and air-gapped installs
// that only ever use the embedded default).
import { ConfigError } from '../errors.js';
import type { Driver, DriverConfig } from './driver.js';

export async function createDriver(config: DriverConfig): Promise<Driver> {
  switch (config.target.dialect) {
    case 'sqlite': {
      const { SqliteDriver } = await import('./sqlite.js');
      return new SqliteDriver(config);
    }
    case 'postgresql':
    case 'mysql':
      return loadServerDriver(config);
    default:
      throw new ConfigError(`No driver for dialect ${(config.target as { dialect: string }).dialect}.`);
  }
}

async function loadServerDriver(config: DriverConfig): Promise<Driver> {
  try {
    // Literal specifiers, so that the bundler gives each driver its own chunk.
    const mod = (config.target.dialect === 'postgresql' ? await import('./postgresql.js') : await import('./mysql.js')) as { createServerDriver(c: DriverConfig): Driver };
    return mod.createServerDriver(config);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ConfigError(`The ${config.target.dialect} driver is not available in this build of glance-db.`, { cause: err });
    }
    throw err;
  }
}
