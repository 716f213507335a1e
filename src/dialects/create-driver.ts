// Picks the driver for a URL's dialect and imports it only then (its
// description's loadDriver, src/dialects/<name>/description.ts), so a SQLite user never
// loads slonik or mysql2 (start-up time, and air-gapped installs that only
// ever use the embedded default).
import { isDialect, DIALECTS } from '../dialects/index.js';
import { ConfigError } from '../platform/errors.js';
import { beforeWasmCompile } from '../platform/wasm-tiering.js';
import type { Driver, DriverConfig } from '../core/driver/driver.js';

export async function createDriver(config: DriverConfig): Promise<Driver> {
  const { dialect } = config.target;
  if (!isDialect(dialect)) throw new ConfigError(`No driver for dialect ${dialect as string}.`);
  // SQLite is sql.js's WebAssembly: a read-only command keeps it on V8's baseline compiler (platform/wasm-tiering.ts).
  if (dialect === 'sqlite') beforeWasmCompile();
  try {
    return await DIALECTS[dialect].loadDriver(config);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ConfigError(`The ${dialect} driver is not available in this build of glance-db.`, { cause: err });
    }
    throw err;
  }
}
