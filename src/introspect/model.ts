// The normalized schema model that every dialect's introspection produces.
// Two databases have "the same schema" when their models are deeply equal
// after normalization; see diff.ts. Text dumps differ for harmless reasons
// (column order in a rebuilt SQLite table, generated constraint names), so
// nothing here depends on order or on generated names.
import type { Driver } from '../drivers/driver.js';
import type { Dialect } from '../dialects/index.js';

export interface ColumnModel {
  name: string;
  /** Lower-case, whitespace-free type as the dialect reports it, e.g. `varchar(36)`, `integer`, `tinyint(1)`. */
  type: string;
  nullable: boolean;
  /** Normalized default expression, or null when the column has none. */
  default: string | null;
  /** MySQL: the column's collation (and so character set), only when it is not its table's. */
  collation?: string;
}

export interface IndexModel {
  name: string;
  columns: string[];
  unique: boolean;
}

export interface UniqueModel {
  /** Null where the dialect generated the name. */
  name: string | null;
  columns: string[];
}

export interface ForeignKeyModel {
  columns: string[];
  refTable: string;
  refColumns: string[];
}

export interface TableModel {
  name: string;
  columns: Record<string, ColumnModel>;
  primaryKey: string[];
  uniques: UniqueModel[];
  indexes: IndexModel[];
  foreignKeys: ForeignKeyModel[];
  /** Normalized CHECK expressions, sorted. */
  checks: string[];
  /** Dialect-specific table options worth comparing (MySQL: engine, charset). */
  options: Record<string, string>;
}

export interface SchemaModel {
  dialect: Dialect;
  tables: Record<string, TableModel>;
  /** PostgreSQL enum types: name -> labels in order. Empty elsewhere. */
  enums: Record<string, string[]>;
}

/** Runs one read-only query and returns plain row objects. Introspection needs nothing more from a driver. */
export type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** One dialect's introspection (src/introspect/<name>.ts), loaded by its description's loadIntrospector. */
export type Introspector = (query: Query, driver: Driver) => Promise<SchemaModel>;
