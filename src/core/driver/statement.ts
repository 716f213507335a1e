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
