// Introspection of whatever database a driver is connected to; each
// dialect's module is imported only when that dialect is in use (its
// description's loadIntrospector, src/dialects/<name>/description.ts).
import { describeDialect } from '../driver/dialect.js';
import type { Driver } from '../driver/driver.js';
import type { SchemaModel } from './model.js';

export async function introspect(driver: Driver): Promise<SchemaModel> {
  return (await describeDialect(driver.dialect).loadIntrospector())(driver.query, driver);
}
