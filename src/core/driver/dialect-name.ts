// The name of a dialect glance-db speaks, for the engine: the keys of the
// registry's DIALECTS (src/dialects/index.ts adds them to DialectNames by
// declaration merging), so a new dialect is still one line there, and core
// names a dialect without importing the registry. A file of its own so that
// the driver contract and the schema model can name it without the description.

/** One key per dialect, added by src/dialects/index.ts. */
export interface DialectNames {}

export type Dialect = keyof DialectNames & string;
