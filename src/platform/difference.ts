// One difference between two schemas, as glance-db reports it (the SCHEMA_DRIFT error's
// `differences`, JSON output). Here rather than in src/core/introspect/diff.ts, which finds
// them, so that src/platform/errors.ts imports nothing outside src/platform (issue 29).

/** One difference; `text` is the sentence glance-db prints. JSON shape: schema/output.schema.json. */
export interface Difference {
  /** missing-table, unexpected-column, column-type, missing-index, index-predicate, foreign-key-action, unexpected-trigger, trigger-definition, ... */
  kind: string;
  /** The table concerned (null for a PostgreSQL enum type, a view, a function, procedure or event). */
  table: string | null;
  /** The column, index, constraint, option, enum, trigger, view or routine concerned (null for a whole table). */
  object: string | null;
  /** What the version's schema has (null: absent). */
  expected: string | null;
  /** What the database has (null: absent). */
  actual: string | null;
  text: string;
}

/** Every difference this process has found, by its words: the engine passes words around, JSON output wants the objects. */
const seen = new Map<string, Difference>();

/** The object behind a difference's words (one recorded earlier, e.g. in a note, gets kind "other"). */
export function differenceOf(text: string | Difference): Difference {
  if (typeof text !== 'string') return text;
  return (
    seen.get(text) ?? {
      kind: 'other',
      table: /^([A-Za-z0-9_]+)[.:]/.exec(text)?.[1] ?? null,
      object: null,
      expected: null,
      actual: null,
      text,
    }
  );
}

/** Remembers a difference found, for differenceOf. */
export function rememberDifference(x: Difference): void {
  seen.set(x.text, x);
}
