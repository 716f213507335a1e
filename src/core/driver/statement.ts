// One statement of a migration file as the splitter (src/core/sql/split.ts)
// gives it: a port type, so that the drivers' failure messages
// (failure.ts: where in the file a statement failed) need not import the splitter.
export interface Statement {
  /** 0-based position in the file. */
  index: number;
  /** From the statement's first token (leading comments dropped) up to, not including, its `;`, trimmed. */
  text: string;
  /** 1-based line and column of the first token. */
  line: number;
  column: number;
  /** 0-based character offset of the first token. */
  offset: number;
  /**
   * Not read from a file but computed (from the live schema, by a hook): what it is, for failure messages,
   * which then name it instead of a file line (line and column mean nothing here).
   */
  computed?: string;
}

/** Statements computed by a hook (`what` they are, for failure messages), numbered in order; no place in a file. */
export function computedStatements(texts: readonly string[], what: string): Statement[] {
  return texts.map((text, index) => ({ index, text, line: 1, column: 1, offset: 0, computed: what }));
}
