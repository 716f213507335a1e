// The port through which a project's own rules reach the engine (issue 29,
// ARCHITECTURE.md): the engine knows no tool but itself. What another tool
// keeps beside the version table (an alembic_version), how to read the
// level of a database that tool made, and which schema forms it produced
// that count as equal, come in through these hooks; the project fills them
// in, and cli hands them down in the RunContext (ctx.rules). Which
// versions only change data is read from the manifest (isDataOnly), not a hook.
import type { Dialect } from './driver/dialect.js';
import type { Driver, VersionRow } from './driver/driver.js';
import type { Manifest } from './manifest/types.js';

/** A schema form another tool really produced (the project reads them from schema/variants.json). */
export interface Variant {
  id: string;
  dialects: Dialect[];
  versions: [number, number];
  producedBy: string;
  /** Differences as diffSchemas prints them; `*` matches any text. */
  allow: string[];
  /** A state: the version whose contract phase removes what it allows (a rolling upgrade with that contract pending leaves it). */
  contractOf?: number;
}

/** What a rolling step's bookkeeping hook is told besides the rows the step leaves. */
export interface PhaseBookkeeping {
  /** The database still has the other tool's legacy table (such as migrate_version). */
  hasLegacyTable: boolean;
  /** Create the other tool's table first (it may not exist yet). */
  withCreate: boolean;
  manifest: Manifest;
  /** Rows a migrate phase that already ran still has to do (core/rolling.ts unmigratedRows). */
  rowsLeft: boolean;
}

export interface ProjectRules {
  /**
   * The statements that set the other tool's bookkeeping to what the version
   * table's rows say, run in the same transaction as a rolling step.
   */
  phaseBookkeeping(rows: VersionRow[], dialect: Dialect, o: PhaseBookkeeping): string[];
  /** Whether phaseBookkeeping would let the other tool run its contract for these rows (then the rows a migrate phase left are counted first). */
  letsOtherToolContract(rows: VersionRow[], manifest: Manifest, dialect: Dialect): boolean;
  /** The level the other tool's bookkeeping records for a database it made; null when it has none. May throw. */
  detect(driver: Driver, tables: string[]): Promise<{ version: number } | null>;
  /** The other tool's bookkeeping table as that tool creates it (a plan script creates it up front). */
  createBookkeepingTableSql(dialect: Dialect): string;
  /** What the other tool's bookkeeping holds at a version (a plan script accepts a database it made at its start). */
  revisionsAt(version: number): string[];
  /** The schema forms the other tool produced, accepted as equal to the expected schema. */
  variants: {
    byId(id: string): Variant | undefined;
    /** The one variant that explains every difference, or null. */
    match(dialect: Dialect, differences: string[]): Variant | null;
    allowedBy(v: Variant, difference: string): boolean;
    /** The state a rolling upgrade leaves while `version`'s contract phase is pending, if one describes it. */
    contractState(version: number): Variant | undefined;
  };
}
