// How messages name the application whose schema glance-db manages, and its
// programs. The engine and the dialects speak of the application's server
// and its own schema tool; the project hands in the names as it loads
// (its words module), as the registry hands in the dialects' descriptions
// (dialect.ts): core and the dialects never import it.

/** The names the messages use. */
export interface ApplicationWords {
  /** The application, as in "its own tool". */
  name: string;
  /** Its server program, which reads and writes the database while it runs (several nodes in a rolling upgrade). */
  server: string;
  /** Its own tool for the schema, which may have made or upgraded the database. */
  tool: string;
  /** The database's usual name, in a plan script's header (`psql -d NAME`). */
  database: string;
}

let words: ApplicationWords | null = null;

/** Hands in the application's names: the project calls it once, as it loads. */
export function provideApplication(given: ApplicationWords): void {
  words = given;
}

/** The application's names, as the project provided them. */
export function application(): ApplicationWords {
  if (!words) throw new Error('internal: no application names (the project provides them as it loads)');
  return words;
}
