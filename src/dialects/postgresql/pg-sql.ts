// SQL text as a slonik query, through slonik's public API only. Migration
// files are the source of truth here, not template literals, and slonik
// takes queries only from its `sql` tag: so the text is handed to
// sql.unsafe as a tag is called, with a strings array (and its `raw`) built
// from the text, and each $n placeholder becomes one of the tag's values.
// Copying the shape of slonik's tokens instead would break silently when a
// release changes them.
import { sql, type QuerySqlToken } from 'slonik';

type Value = Parameters<typeof sql.unsafe>[1];

/** The strings array of a tagged template call: frozen, with `raw`, as slonik checks. */
function templateStrings(parts: string[]): TemplateStringsArray {
  return Object.freeze(Object.assign([...parts], { raw: Object.freeze([...parts]) }));
}

/**
 * A query token for `text`, whose parameters are written $1, $2 ... (the
 * server's own placeholders; one may appear more than once). Without values
 * the text is passed as it is (a migration file's statement: dollar quotes,
 * `?` and all).
 */
export function raw(text: string, values: readonly unknown[] = []): QuerySqlToken {
  if (values.length === 0) return sql.unsafe(templateStrings([text]));
  const parts: string[] = [];
  const args: Value[] = [];
  let last = 0;
  for (const m of text.matchAll(/\$(\d+)/g)) {
    const n = Number(m[1]);
    if (n < 1 || n > values.length) throw new RangeError(`$${n} in a query with ${values.length} parameter(s)`);
    parts.push(text.slice(last, m.index));
    // pg sends undefined as NULL; slonik's tag refuses it.
    args.push((values[n - 1] ?? null) as Value);
    last = m.index! + m[0].length;
  }
  parts.push(text.slice(last));
  return sql.unsafe(templateStrings(parts), ...args);
}
