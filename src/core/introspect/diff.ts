// Compares two normalized schema models and lists every difference in words
// an operator can act on ("images: missing index os_hidden_image_idx"), and
// as objects for scripts ({kind, table, object, expected, actual, text}).
// "missing" means expected but not found in the actual database.
import type { ForeignKeyModel, IndexModel, ObjectModel, SchemaModel, TableModel } from './model.js';
import { definitionHash } from './normalize.js';
import { differenceOf, rememberDifference, type Difference } from '../../platform/difference.js';

export { differenceOf, type Difference };

export interface DiffOptions {
  /** Tables that are not part of the compared schema (version tables). */
  ignoreTables?: string[];
  /** false: the differences are not remembered for differenceOf (a comparison of two expected schemas, not of the database). */
  remember?: boolean;
}

/** Table options that only a model with `objects` records (an older expected schema never compared them). */
const NEWER_OPTIONS = ['row-level security'];

/**
 * Whether an expected schema predates the modelling of triggers, routines,
 * views, foreign-key actions, index predicates and row-level security (a
 * site's expected schema written by an older `glance-db snapshot`): those
 * are then not compared, and this says so in one sentence; null otherwise.
 */
export function notComparedIn(expected: SchemaModel, version: number): string | null {
  if (expected.objects !== undefined) return null;
  return `triggers, functions, views, foreign-key actions and index predicates not compared: the expected schema of version ${version} predates them (make it again with glance-db snapshot ${version})`;
}

const key = (v: unknown) => JSON.stringify(v);
const d = (
  kind: string,
  table: string | null,
  object: string | null,
  expected: string | null,
  actual: string | null,
  text: string,
): Difference => ({ kind, table, object, expected, actual, text });

function setDiff<T>(
  table: string,
  what: string,
  kind: string,
  expected: T[],
  actual: T[],
  show: (v: T) => string,
  name: (v: T) => string,
): Difference[] {
  const exp = new Map(expected.map((v) => [key(v), v]));
  const act = new Map(actual.map((v) => [key(v), v]));
  const out: Difference[] = [];
  for (const [k, v] of exp)
    if (!act.has(k))
      out.push(d(`missing-${kind}`, table, name(v), show(v), null, `${table}: missing ${what} ${show(v)}`));
  for (const [k, v] of act)
    if (!exp.has(k))
      out.push(d(`unexpected-${kind}`, table, name(v), null, show(v), `${table}: unexpected ${what} ${show(v)}`));
  return out;
}

function diffColumns(e: TableModel, a: TableModel): Difference[] {
  const out: Difference[] = [];
  const t = e.name;
  for (const [name, ec] of Object.entries(e.columns)) {
    const ac = a.columns[name];
    if (!ac) {
      out.push(d('missing-column', t, name, ec.type, null, `${t}: missing column ${name} ${ec.type}`));
      continue;
    }
    if (ec.type !== ac.type)
      out.push(d('column-type', t, name, ec.type, ac.type, `${t}.${name}: type is ${ac.type}, expected ${ec.type}`));
    const nul = (n: boolean) => (n ? 'NULL' : 'NOT NULL');
    if (ec.nullable !== ac.nullable)
      out.push(
        d(
          'column-nullable',
          t,
          name,
          nul(ec.nullable),
          nul(ac.nullable),
          `${t}.${name}: is ${nul(ac.nullable)}, expected ${nul(ec.nullable)}`,
        ),
      );
    if (ec.default !== ac.default)
      out.push(
        d(
          'column-default',
          t,
          name,
          ec.default,
          ac.default,
          `${t}.${name}: default is ${ac.default ?? 'none'}, expected ${ec.default ?? 'none'}`,
        ),
      );
    // MySQL: a column's own character set/collation, where it is not its table's.
    const [ecol, acol] = [ec.collation ?? e.options.collation, ac.collation ?? a.options.collation];
    // A column that follows its table's collation on both sides changes with the table: the table-option line names it once.
    const followsTable = ec.collation === undefined && ac.collation === undefined;
    if (ecol !== acol && !followsTable && /char|text|enum|set/.test(ac.type))
      out.push(
        d(
          'column-collation',
          t,
          name,
          ecol ?? null,
          acol ?? null,
          `${t}.${name}: character set/collation is ${acol}, expected ${ecol}`,
        ),
      );
  }
  for (const [name, ac] of Object.entries(a.columns))
    if (!e.columns[name])
      out.push(d('unexpected-column', t, name, null, ac.type, `${t}: unexpected column ${name} ${ac.type}`));
  return out;
}

const cols = (c: string[]) => `(${c.join(', ')})`;
const fkName = (f: ForeignKeyModel) => `${cols(f.columns)} -> ${f.refTable}${cols(f.refColumns)}`;
const fkActions = (f: ForeignKeyModel) =>
  `ON DELETE ${f.onDelete ?? 'NO ACTION'} ON UPDATE ${f.onUpdate ?? 'NO ACTION'}${f.options ? ` ${f.options}` : ''}`;
const indexShow = (i: IndexModel) =>
  `${i.name}${cols(i.columns)}${i.unique ? ' unique' : ''}${i.where !== undefined ? ` WHERE ${i.where}` : ''}`;

/** Indexes by name, columns and uniqueness; one whose predicate alone changed is named as such. */
function diffIndexes(t: string, e: IndexModel[], a: IndexModel[], compareWhere: boolean): Difference[] {
  const bare = (i: IndexModel): IndexModel => ({ name: i.name, columns: i.columns, unique: i.unique });
  const shown = (i: IndexModel) => (compareWhere ? i : bare(i));
  const out: Difference[] = [];
  const same = (x: IndexModel, y: IndexModel) => key(bare(x)) === key(bare(y));
  const changed = e.filter((x) => compareWhere && a.some((y) => same(x, y) && x.where !== y.where));
  for (const x of changed) {
    const y = a.find((z) => same(x, z))!;
    const p = (i: IndexModel) => (i.where !== undefined ? `WHERE ${i.where}` : 'none');
    out.push(
      d(
        'index-predicate',
        t,
        x.name,
        p(x),
        p(y),
        `${t}: index ${x.name}${cols(x.columns)} has predicate ${p(y)}, expected ${p(x)}`,
      ),
    );
  }
  const rest = (list: IndexModel[]) => list.filter((i) => !changed.some((x) => same(x, i))).map(shown);
  out.push(...setDiff(t, 'index', 'index', rest(e), rest(a), indexShow, (i) => i.name));
  return out;
}

/** Foreign keys by columns and referenced table; one whose ON DELETE / ON UPDATE (or PostgreSQL options) alone changed is named as such. */
function diffForeignKeys(t: string, e: ForeignKeyModel[], a: ForeignKeyModel[], compareActions: boolean): Difference[] {
  const bare = (f: ForeignKeyModel): ForeignKeyModel => ({
    columns: f.columns,
    refTable: f.refTable,
    refColumns: f.refColumns,
  });
  const out = setDiff(t, 'foreign key', 'foreign-key', e.map(bare), a.map(bare), fkName, (f) => cols(f.columns));
  if (!compareActions) return out;
  for (const x of e) {
    const y = a.find((z) => key(bare(z)) === key(bare(x)));
    if (y && fkActions(x) !== fkActions(y))
      out.push(
        d(
          'foreign-key-action',
          t,
          cols(x.columns),
          fkActions(x),
          fkActions(y),
          `${t}: foreign key ${fkName(x)} is ${fkActions(y)}, expected ${fkActions(x)}`,
        ),
      );
  }
  return out;
}

function diffTable(e: TableModel, a: TableModel, full: boolean): Difference[] {
  const t = e.name;
  const out = diffColumns(e, a);
  if (key(e.primaryKey) !== key(a.primaryKey))
    out.push(
      d(
        'primary-key',
        t,
        null,
        cols(e.primaryKey),
        cols(a.primaryKey),
        `${t}: primary key is ${cols(a.primaryKey)}, expected ${cols(e.primaryKey)}`,
      ),
    );
  out.push(
    ...setDiff(
      t,
      'unique constraint',
      'unique-constraint',
      e.uniques,
      a.uniques,
      (u) => `${u.name ?? ''}${cols(u.columns)}`,
      (u) => u.name ?? cols(u.columns),
    ),
  );
  out.push(...diffIndexes(t, e.indexes, a.indexes, full));
  out.push(...diffForeignKeys(t, e.foreignKeys, a.foreignKeys, full));
  out.push(
    ...setDiff(
      t,
      'check constraint',
      'check-constraint',
      e.checks,
      a.checks,
      (c) => `CHECK (${c})`,
      (c) => `CHECK (${c})`,
    ),
  );
  for (const k of new Set([...Object.keys(e.options), ...Object.keys(a.options)])) {
    if (!full && NEWER_OPTIONS.includes(k)) continue;
    if (e.options[k] !== a.options[k])
      out.push(
        d(
          'table-option',
          t,
          k,
          e.options[k] ?? null,
          a.options[k] ?? null,
          `${t}: ${k} is ${a.options[k] ?? 'unset'}, expected ${e.options[k] ?? 'unset'}`,
        ),
      );
  }
  return out;
}

/** The kind word of an object type: a procedure or aggregate is a function difference, a materialized view a view one. */
function kindOf(type: string): string {
  if (type === 'procedure' || type === 'aggregate') return 'function';
  if (type === 'materialized view') return 'view';
  return type;
}

/** `trigger reject_images BEFORE INSERT (definition 0123456789abcdef)`: what the messages show of an object. */
export function objectShow(o: ObjectModel): string {
  return `${o.type} ${o.name} ${objectTail(o)}`;
}

/** `BEFORE INSERT (definition 0123456789abcdef)`: an object's summary and the fingerprint of its definition. */
const objectTail = (o: ObjectModel) =>
  `${o.summary ? `${o.summary} ` : ''}(definition ${definitionHash(o.definition)})`;

/** Triggers, routines, views, rules, policies, events: by kind, table and name, then by definition. */
function diffObjects(expected: ObjectModel[], actual: ObjectModel[], ignore: Set<string>): Difference[] {
  const id = (o: ObjectModel) => `${kindOf(o.type)}\u0000${o.table ?? ''}\u0000${o.name}`;
  const keep = (o: ObjectModel) => o.table === null || !ignore.has(o.table);
  const exp = new Map(expected.filter(keep).map((o) => [id(o), o]));
  const act = new Map(actual.filter(keep).map((o) => [id(o), o]));
  const where = (o: ObjectModel) => (o.table !== null ? `${o.table}: ` : '');
  const out: Difference[] = [];
  for (const [k, e] of exp) {
    const a = act.get(k);
    if (!a)
      out.push(
        d(`missing-${kindOf(e.type)}`, e.table, e.name, objectShow(e), null, `${where(e)}missing ${objectShow(e)}`),
      );
    else if (a.type !== e.type || a.definition !== e.definition || a.summary !== e.summary) {
      out.push(
        d(
          `${kindOf(e.type)}-definition`,
          e.table,
          e.name,
          objectShow(e),
          objectShow(a),
          `${where(e)}${e.type} ${e.name} is ${a.type !== e.type ? `a ${a.type} ` : ''}${objectTail(a)}, expected ${objectTail(e)}`,
        ),
      );
    }
  }
  for (const [k, a] of act)
    if (!exp.has(k))
      out.push(
        d(
          `unexpected-${kindOf(a.type)}`,
          a.table,
          a.name,
          null,
          objectShow(a),
          `${where(a)}unexpected ${objectShow(a)}`,
        ),
      );
  return out;
}

/** Every difference, as objects. */
export function schemaDiff(expected: SchemaModel, actual: SchemaModel, opts: DiffOptions = {}): Difference[] {
  const ignore = new Set(opts.ignoreTables ?? []);
  const out: Difference[] = [];
  const names = [...new Set([...Object.keys(expected.tables), ...Object.keys(actual.tables)])]
    .filter((n) => !ignore.has(n))
    .sort();
  for (const n of names) {
    const e = expected.tables[n];
    const a = actual.tables[n];
    if (!a) out.push(d('missing-table', n, null, n, null, `missing table ${n}`));
    else if (!e) out.push(d('unexpected-table', n, null, null, n, `unexpected table ${n}`));
    else out.push(...diffTable(e, a, expected.objects !== undefined));
  }
  for (const n of new Set([...Object.keys(expected.enums), ...Object.keys(actual.enums)])) {
    const [e, a] = [expected.enums[n], actual.enums[n]];
    const list = (v: string[]) => `(${v.join(', ')})`;
    if (key(e) !== key(a)) {
      out.push(
        !a
          ? d('missing-enum', null, n, list(e), null, `missing enum type ${n}`)
          : !e
            ? d('unexpected-enum', null, n, null, list(a), `unexpected enum type ${n}`)
            : d('enum-values', null, n, list(e), list(a), `enum ${n} is ${list(a)}, expected ${list(e)}`),
      );
    }
  }
  // An expected schema written before objects were modelled: they are not compared (notComparedIn says so).
  if (expected.objects !== undefined) out.push(...diffObjects(expected.objects, actual.objects ?? [], ignore));
  if (opts.remember !== false) for (const x of out) rememberDifference(x);
  return out;
}

/** Every difference, in words. */
export function diffSchemas(expected: SchemaModel, actual: SchemaModel, opts: DiffOptions = {}): string[] {
  return schemaDiff(expected, actual, opts).map((x) => x.text);
}
