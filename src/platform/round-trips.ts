// How many round trips a run makes to its server, counted on the client side
// at the one place every statement of the run's own connections passes
// (postgresql.ts WatchedClient.query, mysql-connect.ts watch()): the bench
// and docs/performance.md report it per command, and a test pins the count
// of a no-op sync so that it cannot grow unnoticed. The watchdog's side
// connections (asked only when an answer is late) are not counted.
//
// GLANCE_DB_ROUND_TRIPS=FILE (read by src/cli/cli.ts, not here) appends one JSON
// line per run to FILE: the count and each statement's first 120 characters.

export interface RoundTripTally {
  count: number;
  /** The statements, abbreviated, in order; kept only when recording (a data step may send thousands). */
  statements: string[] | null;
}

export const roundTrips: RoundTripTally = { count: 0, statements: null };

/** Keep each statement's text as well as the count. */
export function recordRoundTrips(): void {
  roundTrips.statements ??= [];
}

/** One request and its answer; `n` is 2 for a mysql2 execute() whose statement is prepared first. */
export function countRoundTrip(text: unknown, n = 1): void {
  roundTrips.count += n;
  if (!roundTrips.statements) return;
  const s = typeof text === 'string' ? text : String((text as { sql?: unknown })?.sql ?? text);
  const short = s.replace(/\s+/g, ' ').trim().slice(0, 120);
  roundTrips.statements.push(n > 1 ? `(prepare) ${short}` : short);
}
