// Differences between the live schema and the expected one, sorted into
// what the other tool itself produced (a known variant: ctx.rules.variants,
// the project's hooks), what the operator accepted
// earlier (sync --accept-drift, kept in the version table's `note`), and
// drift: everything else.
import type { Driver, VersionRow } from './driver/driver.js';
import { SchemaDriftError } from '../platform/errors.js';
import { differenceOf, diffSchemas, notComparedIn, schemaDiff, type Difference } from './introspect/diff.js';
import type { Migration } from './manifest/types.js';
import { introspect } from './introspect/index.js';
import type { SchemaModel } from './introspect/model.js';
import { sqlTokens } from './introspect/normalize.js';
import { bookkeepingTables, expectedSchema, NoExpectedSchemaError } from './introspect/snapshot.js';
import type { Dialect } from './driver/dialect.js';
import type { RunContext } from './run-context.js';
import type { ProjectRules, Variant } from './rules.js';
import { readVersions } from './files.js';
import { rollingState, stepFor, workIn } from './phases.js';

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
  /** What another tool did that glance-db recorded instead of running it (engine/handback.ts). */
  recorded?: string;
  /** The version's expand phase was run by the other tool (its own expand), recorded by glance-db. */
  expandedBy?: string;
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

/** Differences between the live schema and the expected schema of a version. */
export async function schemaDifferences(ctx: RunContext, driver: Driver, version: number): Promise<string[]> {
  const expected = expectedSchema(ctx.manifest, driver.dialect, version);
  if (!expected) throw new NoExpectedSchemaError(version, driver.dialect, ctx.manifest);
  const live = await introspect(driver);
  return diffSchemas(expected, live, { ignoreTables: bookkeepingTables(ctx.manifest.versionTable) });
}

/** Sorts differences using what the version table's notes say, and the known variants of `rules`. */
export function classify(
  rules: Pick<ProjectRules, 'variants'>,
  dialect: Driver['dialect'],
  all: string[],
  rows: VersionRow[],
): Drift {
  const { byId: variantById, match: matchVariant, allowedBy } = rules.variants;
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
  const drift = classify(ctx.rules, driver.dialect, await schemaDifferences(ctx, driver, version), rows);
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
  const { contractState, allowedBy } = ctx.rules.variants;
  const contractPending = s.pending.contract;
  const undescribed = contractPending.filter((v) => !contractState(v));
  const states = contractPending.map(contractState).filter((v): v is Variant => !!v);
  const rolling = { to: s.top, contractPending, states: states.map((v) => v.id) };
  if (undescribed.length > 0) {
    return {
      all: [],
      variant: null,
      accepted: [],
      unexplained: [],
      rolling,
      notCompared: `the contract phase of version${undescribed.length > 1 ? 's' : ''} ${undescribed.join(', ')} is pending and nothing describes what ${undescribed.length > 1 ? 'they leave' : 'it leaves'} meanwhile (schema/variants.json states)`,
    };
  }
  const all = await schemaDifferences(ctx, driver, s.top);
  const drift = classify(
    ctx.rules,
    driver.dialect,
    all.filter((d) => !states.some((st) => allowedBy(st, d))),
    rows,
  );
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

/** A difference that a version still to run depends on, and why. */
export interface Dependency {
  difference: string;
  version: number;
  name: string;
  /** What the version does with the object: "its expected schema changes images.ix_images_is_public", "its statements name images and is_public", ... */
  reason: string;
}

const FK_REF = /-> ([^(\s]+)\(/;

/** The identifier words of SQL text (comments and string literals left out). */
function words(sql: string): Set<string> {
  return new Set(sqlTokens(sql).filter((t) => /^[a-z_]/.test(t)));
}

/**
 * The differences that a version between `from` (exclusive) and `target`
 * depends on, so that accepting them (--accept-drift) would let that
 * version fail half way or silently undo them. A difference depends on a
 * pending version when:
 * - the version's expected schema changes the same object (it creates,
 *   drops, alters or renames it: a missing index it drops, a column it adds
 *   that is already there); this needs both versions' expected schemas;
 * - one of its statements (whole file and phase files) names the table and
 *   the object (a column it reads, an index it drops, a function it
 *   creates); for a trigger, rule or policy, or a difference with no name of
 *   its own (a check, a foreign key, a table option, the primary key), the
 *   table (and the constraint's columns) is enough: those act on every
 *   statement that writes the table; a foreign key's referenced table
 *   counts as well;
 * - it drops and builds the table again (SQLite's table rebuild), which
 *   would lose whatever the difference is;
 * - a view whose definition names what a pending version changes (a
 *   PostgreSQL view blocks dropping a column it reads).
 * What it cannot see: SQL built at run time, objects reached indirectly (a
 * trigger on another table, a cascade, a function called from a statement
 * without its name), and data that a new constraint would reject.
 */
export function pendingDependencies(
  ctx: RunContext,
  dialect: Dialect,
  from: number | null,
  target: number,
  differences: string[],
  live?: SchemaModel,
): Dependency[] {
  const migs = ctx.manifest.migrations.filter((m) => (from === null || m.version > from) && m.version <= target);
  if (migs.length === 0 || differences.length === 0) return [];
  const targetSchema = expectedSchema(ctx.manifest, dialect, target);
  const before = from === null ? null : expectedSchema(ctx.manifest, dialect, from);
  const pending = migs.map((mig) => versionWork(ctx, dialect, mig, targetSchema));
  const out: Dependency[] = [];
  for (const text of differences) {
    const x = differenceAt(text, live, before);
    for (const p of pending) {
      const reason = dependencyReason(x, p);
      if (reason === null) continue;
      out.push({ difference: text, version: p.mig.version, name: p.mig.name, reason });
      break;
    }
  }
  return out;
}

/** What a version still to run does: the schema changes it makes, the words of its statements, the tables it rebuilds. */
interface VersionWork {
  mig: Migration;
  delta: Difference[];
  statements: Set<string>[];
  rebuilt: Set<string>;
}

function versionWork(ctx: RunContext, dialect: Dialect, mig: Migration, targetSchema: SchemaModel | null): VersionWork {
  // What the version changes, from the expected schemas on either side of it.
  const ignore = { ignoreTables: bookkeepingTables(ctx.manifest.versionTable), remember: false };
  const prev = ctx.manifest.migrations
    .map((m) => m.version)
    .filter((v) => v < mig.version)
    .pop();
  const a = prev === undefined ? null : expectedSchema(ctx.manifest, dialect, prev);
  const b = expectedSchema(ctx.manifest, dialect, mig.version);
  const delta = a && b ? schemaDiff(a, b, ignore) : [];
  const texts = statementTexts(ctx, dialect, mig);
  return { mig, delta, statements: texts.map(words), rebuilt: rebuiltTables(texts, targetSchema) };
}

/** Every statement a version may run: its whole file and its phase files. */
function statementTexts(ctx: RunContext, dialect: Dialect, mig: Migration): string[] {
  const texts: string[] = [];
  try {
    texts.push(
      ...readVersions({ ...ctx.manifest, migrations: [mig] }, dialect, mig.version)
        .get(mig.version)!
        .statements.map((x) => x.text),
    );
  } catch {
    // A version without a whole file for this dialect runs by phases only.
  }
  for (const phase of workIn(mig))
    if (mig.rolling === 'phased')
      texts.push(...stepFor(ctx.manifest, dialect, mig, phase).statements.map((x) => x.text));
  return texts;
}

/** The tables the statements drop and build again (SQLite's table rebuild: CREATE or RENAME TO the name, or the table stays in the target schema). */
function rebuiltTables(texts: string[], targetSchema: SchemaModel | null): Set<string> {
  const rebuilt = new Set<string>();
  for (const t of texts) {
    const m = /^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?["`[]?([\w$]+)/i.exec(t);
    if (!m) continue;
    const name = m[1].toLowerCase();
    const again = texts.some((x) =>
      new RegExp(`(RENAME\\s+TO|CREATE\\s+TABLE(\\s+IF\\s+NOT\\s+EXISTS)?)\\s+["\`[]?${name}\\b`, 'i').test(x),
    );
    if (again || (targetSchema && name in targetSchema.tables)) rebuilt.add(name);
  }
  return rebuilt;
}

/** A difference as the statements would name it: its table(s), its own name, a constraint's columns, a view's words. */
interface DifferenceNames {
  x: Difference;
  table: string | null;
  refTable: string | null;
  tables: string[];
  own: string | null;
  actsOnTable: boolean;
  constraintColumns: string[];
  viewWords: Set<string> | null;
}

function differenceAt(text: string, live: SchemaModel | undefined, before: SchemaModel | null): DifferenceNames {
  const x = differenceOf(text);
  const table = x.table?.toLowerCase() ?? null;
  const kind = x.kind;
  const refTable = /foreign-key/.test(kind)
    ? (FK_REF.exec(x.actual ?? x.expected ?? '')?.[1]?.toLowerCase() ?? null)
    : null;
  const tables = [table, refTable].filter((t): t is string => t !== null);
  // The name the statements would use: a function's without its arguments; none for a constraint shown by its columns or text.
  const own =
    x.object === null || /^(\(|CHECK \()/.test(x.object) || kind === 'table-option'
      ? null
      : x.object.replace(/\(.*$/, '').toLowerCase();
  // A constraint's columns: the words of its text that are columns of its table.
  const columnsOf = (t: string) => Object.keys(live?.tables[t]?.columns ?? before?.tables[t]?.columns ?? {});
  const constraintColumns =
    own === null && x.object !== null && table ? [...words(x.object)].filter((w) => columnsOf(table).includes(w)) : [];
  const view =
    /view/.test(kind) && live ? live.objects?.find((o) => /view/.test(o.type) && o.name === x.object) : undefined;
  const viewWords = view ? words(view.definition) : null;
  return {
    x,
    table,
    refTable,
    tables,
    own,
    actsOnTable: /trigger|rule|policy/.test(kind),
    constraintColumns,
    viewWords,
  };
}

/** Why a pending version depends on the difference (the first reason that holds), or null. */
function dependencyReason(d: DifferenceNames, p: VersionWork): string | null {
  const { x, table, refTable, tables, own, actsOnTable, constraintColumns, viewWords } = d;
  const same = p.delta.find((e) => e.table === x.table && e.object === x.object);
  if (same) return `its expected schema changes ${x.table ? `${x.table}${x.object ? `.${x.object}` : ''}` : x.object}`;
  const droppedRef = refTable && p.delta.find((e) => e.table === refTable && e.object === null);
  if (droppedRef) return `its expected schema changes table ${refTable}, which the foreign key references`;
  const rebuilt = tables.find((t) => p.rebuilt.has(t));
  if (rebuilt) return `it drops table ${rebuilt} and builds it again`;
  const named = p.statements.find((w) => {
    if (own !== null && !actsOnTable) return (table === null || w.has(table)) && w.has(own);
    if (constraintColumns.length > 0) return tables.some((t) => w.has(t)) && constraintColumns.some((c) => w.has(c));
    return tables.some((t) => w.has(t));
  });
  if (named)
    return `its statements name ${own !== null && !actsOnTable ? [table, own].filter(Boolean).join(' and ') : [tables.join(' or '), ...constraintColumns].join(' and ')}`;
  const seen =
    viewWords &&
    p.delta.find(
      (e) =>
        e.table !== null &&
        viewWords.has(e.table.toLowerCase()) &&
        (e.object === null || viewWords.has(e.object.toLowerCase())),
    );
  if (seen) return `the view reads ${seen.table}${seen.object ? `.${seen.object}` : ''}, which it changes`;
  return null;
}

/**
 * --accept-drift's guard: refuses (exit 12, nothing recorded, nothing
 * changed) when a version still to run depends on one of the differences,
 * naming each version and object. Accepting them would leave that version
 * failing half way (MySQL: partly applied) or silently undoing them.
 */
export function refuseDependentDrift(
  ctx: RunContext,
  dialect: Dialect,
  from: number | null,
  target: number,
  differences: string[],
  live: SchemaModel,
  retry: string,
): void {
  const deps = pendingDependencies(ctx, dialect, from, target, differences, live);
  if (deps.length === 0) return;
  const lines = deps.map((x) => `${x.difference} (version ${x.version} ${x.name}: ${x.reason})`);
  throw new SchemaDriftError(
    `--accept-drift cannot accept ${deps.length === 1 ? 'a difference' : `${deps.length} differences`} that a version still to run depends on: ${lines.join('; ')}. Nothing was recorded and nothing was changed.`,
    deps.map((x) => x.difference),
    `Undo ${deps.length === 1 ? 'that difference' : 'those differences'} (or restore a backup), then run ${retry} again; a change meant to stay can be made again after the upgrade and accepted then. Differences no pending version depends on are accepted as before.`,
  );
}
