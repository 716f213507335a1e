// Introspection of whatever database a driver is connected to; each
// dialect's module is imported only when that dialect is in use.
import type { Driver } from '../drivers/driver.js';
import type { Query, SchemaModel } from './model.js';

type Introspector = (query: Query, driver: Driver) => Promise<SchemaModel>;

const loaders: Record<Driver['dialect'], () => Promise<Introspector>> = {
  sqlite: async () => {
    const m = await import('./sqlite.js');
    return (q) => m.introspectSqlite(q);
  },
  postgresql: async () => {
    const m = await import('./postgresql.js');
    return (q) => m.introspectPostgres(q);
  },
  mysql: async () => {
    const m = await import('./mysql.js');
    return async (q) => m.introspectMysql(q, String((await q('SELECT DATABASE() AS db'))[0].db));
  },
};

export async function introspect(driver: Driver): Promise<SchemaModel> {
  return (await loaders[driver.dialect]())(driver.query, driver);
}
