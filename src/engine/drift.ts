// Differences between the live schema and the expected one, sorted into
// what Glance itself produced (a known variant), what the operator accepted
// earlier (sync --accept-drift, kept in the version table's `note`), and
// drift: everything else.
import type { Driver, VersionRow } from '../drivers/driver.js';
import { allowedBy, contractState, matchVariant, variantById, type Variant } from '../glance/variants.js';
import { notComparedIn } from '../introspect/diff.js';
import { expectedSchema } from '../introspect/snapshot.js';
import { schemaDifferences } from './adopt.js';
import type { RunContext } from './context.js';
import { rollingState } from './phases.js';

/** What the `note` column holds (JSON text). */
export interface Note {
  /** The known variant recognised at take-over (schema/variants.json). */
  variant?: string;
  /** Differences the operator accepted with sync --accept-drift, as verify prints them. */
  acceptedDrift?: string[];
  /** When and by which command the differences were accepted. */
  acceptedAt?: string;
  /** A rolling upgrade that glance-db finished (for example ocata-expanded). */
  finished?: string;
}

export function parseNote(text: string | null | undefined): Note {
  if (!text) return {};
  try {
    const n = JSON.parse(text) as unknown;
    return n && typeof n === 'object' ? (n as Note) : {};
  } catch {
    return {};
  }
}

export function noteText(n: Note): string {
  return JSON.stringify(n);
}

export interface Drift {
  /** Every difference from the expected model. */
  all: string[];
  /** The known variant that explains the differences left after the accepted ones, if any. */
  variant: Variant | null;
  /** Differences accepted earlier with sync --accept-drift. */
  accepted: string[];
  /** Drift: differences neither a known variant nor accepted. */
  unexplained: string[];
  /** Nothing was compared, and why (a rolling state nothing describes). */
  notCompared?: string;
  /** What was not compared, in one sentence (an expected schema older than the modelling of triggers, views...). */
  partly?: string;
  /** A rolling upgrade under way: the version it goes to, compared with, and the versions whose contract phase is pending (what they still remove is allowed). */
  rolling?: { to: number; contractPending: number[]; states: string[] };
}

/** Sorts differences using what the version table's notes say. */
export function classify(dialect: Driver['dialect'], all: string[], rows: VersionRow[]): Drift {
  const notes = rows.map((r) => parseNote(r.note));
  const acceptedSet = new Set(notes.flatMap((n) => n.acceptedDrift ?? []));
  const accepted = all.filter((d) => acceptedSet.has(d));
  let rest = all.filter((d) => !acceptedSet.has(d));
  // The recorded variant first: its differences are expected from this database.
  const recorded = notes.map((n) => (n.variant ? variantById(n.variant) : undefined)).filter((v): v is Variant => !!v);
  let variant: Variant | null = null;
  for (const v of recorded) {
    if (rest.some((d) => allowedBy(v, d))) variant = v;
    rest = rest.filter((d) => !allowedBy(v, d));
  }
  if (rest.length > 0) {
    const known = matchVariant(dialect, rest);
    if (known) {
      variant = known;
      rest = [];
    }
  }
  return { all, variant, accepted, unexplained: rest };
}

export async function driftOf(ctx: RunContext, driver: Driver, version: number, rows: VersionRow[]): Promise<Drift> {
  const drift = classify(driver.dialect, await schemaDifferences(ctx, driver, version), rows);
  const expected = expectedSchema(ctx.manifest, driver.dialect, version);
  const partly = expected ? notComparedIn(expected, version) : null;
  return partly ? { ...drift, partly } : drift;
}

/**
 * A rolling upgrade under way (expand ran, contract not yet): the schema is
 * compared with that of the version the upgrade goes to, allowing what each
 * pending contract phase still has to remove (the catalogue's states with
 * `contractOf`: 45's is_public, its index and its triggers; 46's artifact
 * tables), and nothing else. Null when no rolling upgrade is under way. A
 * pending contract phase the catalogue does not describe (a version a site
 * added) leaves the schema not compared, and says so.
 */
export async function rollingDriftOf(ctx: RunContext, driver: Driver, rows: VersionRow[]): Promise<Drift | null> {
  const s = rollingState(ctx.manifest, rows);
  if (!s.underWay || s.top === null) return null;
  const contractPending = s.pending.contract;
  const undescribed = contractPending.filter((v) => !contractState(v));
  const states = contractPending.map(contractState).filter((v): v is Variant => !!v);
  const rolling = { to: s.top, contractPending, states: states.map((v) => v.id) };
  if (undescribed.length > 0) {
    return { all: [], variant: null, accepted: [], unexplained: [], rolling,
      notCompared: `the contract phase of version${undescribed.length > 1 ? 's' : ''} ${undescribed.join(', ')} is pending and nothing describes what ${undescribed.length > 1 ? 'they leave' : 'it leaves'} meanwhile (schema/variants.json states)` };
  }
  const all = await schemaDifferences(ctx, driver, s.top);
  const drift = classify(driver.dialect, all.filter((d) => !states.some((st) => allowedBy(st, d))), rows);
  const expected = expectedSchema(ctx.manifest, driver.dialect, s.top);
  const partly = expected ? notComparedIn(expected, s.top) : null;
  return { ...drift, all, rolling, ...(partly ? { partly } : {}) };
}

/** The note recording differences accepted now, merged into the note a row already has. */
export function withAccepted(existing: string | null | undefined, differences: string[], command: string): string {
  const n = parseNote(existing);
  const accepted = [...new Set([...(n.acceptedDrift ?? []), ...differences])];
  return noteText({ ...n, acceptedDrift: accepted, acceptedAt: `${new Date().toISOString()} (${command})` });
}

