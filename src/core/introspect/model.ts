// The normalized schema model that every dialect's introspection produces.
// Two databases have "the same schema" when their models are deeply equal
// after normalization; see diff.ts. Text dumps differ for harmless reasons
// (column order in a rebuilt SQLite table, generated constraint names), so
// nothing here depends on order or on generated names.
import type { Driver, Query } from '../driver/driver.js';
import type { Dialect } from '../driver/dialect-name.js';

export type { Query } from '../driver/driver.js';

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
  /** Column names; an expression index's expression in its place (PostgreSQL, SQLite, MySQL 8). */
  columns: string[];
  unique: boolean;
  /** A partial index's predicate, normalized (PostgreSQL, SQLite); absent for a plain index. */
  where?: string;
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
  /** What a delete of the referenced row does: NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT (as the dialect reports it). */
  onDelete?: string;
  /** The same for an update of the referenced key. */
  onUpdate?: string;
  /** PostgreSQL: MATCH FULL, DEFERRABLE, INITIALLY DEFERRED, NOT VALID, where set; absent otherwise. */
  options?: string;
}

/**
 * A schema object beside the tables: a trigger, a function or procedure, a
 * view, and on PostgreSQL a rule or a row-security policy; on MySQL a
 * scheduled event. Compared by kind, table and name, then by definition.
 */
export interface ObjectModel {
  /** trigger, function, procedure, aggregate, event, view, materialized view, rule, policy. */
  type: string;
  /** A trigger's, a view's or a routine's name; a PostgreSQL function's with its argument types, `f(integer)`. */
  name: string;
  /** The table a trigger, rule or policy belongs to; null for views and routines. */
  table: string | null;
  /** A few words shown in messages (a trigger's `BEFORE INSERT`); may be empty. */
  summary: string;
  /** The definition as the server reports it, normalized (src/core/introspect/normalize.ts). */
  definition: string;
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
  /**
   * Triggers, routines, views, rules, policies, events, sorted by type, table and name.
   * Absent in an expected schema written before glance-db modelled them (a
   * site's old `glance-db snapshot`): then those, foreign-key actions, index
   * predicates and row-level security are not compared (diff.ts says so).
   */
  objects?: ObjectModel[];
}

/** One dialect's introspection (src/dialects/<name>/introspect.ts), loaded by its description's loadIntrospector. */
export type Introspector = (query: Query, driver: Driver) => Promise<SchemaModel>;
