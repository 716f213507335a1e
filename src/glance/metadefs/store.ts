// The six metadef_* tables: reading one namespace back into the model,
// planning what a load changes (glance-manage's --merge, --prefer-new and
// --overwrite), and applying that plan inside one transaction.
import { describeDialect, type Dialect } from '../../core/driver/dialect.js';
import type { Tx } from '../../core/driver/driver.js';
import type { Query } from '../../core/introspect/model.js';
import { DataFailedError } from '../../platform/errors.js';
import { stringify } from './json.js';
import { JsonSyntaxError, parseJson } from './json-parse.js';
import { jsonMaxCodePoint, type Limits } from './limits.js';
import { jsonEqual, type Association, type Namespace, type ObjectDef, type PropertyDef } from './model.js';

export interface LoadMode {
  merge: boolean;
  preferNew: boolean;
  overwrite: boolean;
}

export type ItemKind = 'namespace' | 'resource_type_association' | 'property' | 'object' | 'tag';

/**
 * add / update / remove: what the load does. keep: differs from the file
 * but stays (merge without --prefer-new). extra: in the database only, stays
 * (without --overwrite).
 */
export interface Change {
  action: 'add' | 'update' | 'remove' | 'keep' | 'extra';
  kind: ItemKind;
  name: string;
  /** Which columns differ, for update and keep. */
  fields?: string[];
}

export type NamespaceStatus = 'added' | 'updated' | 'unchanged' | 'skipped';

export interface NamespacePlan {
  namespace: string;
  file: string;
  status: NamespaceStatus;
  changes: Change[];
}

/** A namespace as the database holds it. */
export interface Stored extends Namespace {
  id: number;
}

/** Placeholders: the statements here are written with ?, PostgreSQL wants $1, $2, ... (its description's placeholders). */
export function sqlFor(dialect: Dialect, text: string): string {
  if (describeDialect(dialect).placeholders === '?') return text;
  let i = 0;
  return text.replace(/\?/g, () => `$${++i}`);
}

export class MetadefsSql {
  /** Resource type ids seen in this run's one transaction (rolled back with it as a whole). */
  readonly resourceTypes = new Map<string, number>();

  /** The target's column limits, once read (a load reads them before it writes): which characters JSON text must escape. */
  limits: Limits | null = null;

  constructor(readonly dialect: Dialect) {}

  /** The JSON text stored for a schema: numbers as the file wrote them, characters the column cannot hold as \u escapes. */
  json(column: 'metadef_properties.json_schema' | 'metadef_objects.json_schema', value: unknown): string {
    return stringify(value, { maxCodePoint: this.limits ? jsonMaxCodePoint(this.limits, column) : 0x10ffff });
  }

  q(text: string): string {
    return sqlFor(this.dialect, text);
  }

  /** How a boolean column is bound: PostgreSQL has booleans, SQLite and MySQL store 1/0. */
  bool(v: boolean | null): boolean | number | null {
    if (v === null) return null;
    return describeDialect(this.dialect).nativeBooleans ? v : v ? 1 : 0;
  }

  /** Glance's timestamps are UTC without a zone; SQLAlchemy writes them with microseconds on SQLite. */
  now(): string {
    return new Date().toISOString().replace('T', ' ').replace('Z', '000');
  }
}

const boolOf = (v: unknown): boolean | null =>
  v === null || v === undefined ? null : v === true || v === 1 || v === '1' || v === 't' || v === 'true';
const strOf = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
/** A json_schema column's value, numbers as stored, however deep; text that is not JSON is an error naming the row. */
function parse(v: unknown, where: string): unknown {
  try {
    return parseJson(String(v)).value;
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new DataFailedError(
      `The json_schema of ${where} in the database is not JSON (${err.message} at character ${err.offset + 1}).`,
      {
        hint: 'Fix that row (or remove the namespace with metadefs load --merge --overwrite from a good file) and run the command again.',
      },
    );
  }
}

/** Every namespace name in the database, in id order. */
export async function namespaceNames(query: Query): Promise<string[]> {
  return (await query('SELECT namespace FROM metadef_namespaces ORDER BY id')).map((r) => String(r.namespace));
}

/** One namespace and everything in it, or null. Items in id order (resource types: by name). */
export async function readNamespace(s: MetadefsSql, query: Query, name: string): Promise<Stored | null> {
  const row = (
    await query(
      s.q(
        'SELECT id, namespace, display_name, description, visibility, protected, owner FROM metadef_namespaces WHERE namespace = ?',
      ),
      [name],
    )
  )[0];
  if (!row) return null;
  const id = Number(row.id);
  // One after another: a transaction is one connection.
  const assoc = await query(
    s.q(
      'SELECT rt.name, a.prefix, a.properties_target FROM metadef_namespace_resource_types a JOIN metadef_resource_types rt ON rt.id = a.resource_type_id WHERE a.namespace_id = ? ORDER BY rt.id',
    ),
    [id],
  );
  const props = await query(
    s.q('SELECT name, json_schema FROM metadef_properties WHERE namespace_id = ? ORDER BY id'),
    [id],
  );
  const objs = await query(
    s.q('SELECT name, description, required, json_schema FROM metadef_objects WHERE namespace_id = ? ORDER BY id'),
    [id],
  );
  const tags = await query(s.q('SELECT name FROM metadef_tags WHERE namespace_id = ? ORDER BY id'), [id]);
  return {
    id,
    namespace: String(row.namespace),
    displayName: strOf(row.display_name),
    description: strOf(row.description),
    visibility: strOf(row.visibility),
    protected: boolOf(row.protected),
    owner: String(row.owner),
    associations: assoc.map((r) => ({
      name: String(r.name),
      prefix: strOf(r.prefix),
      propertiesTarget: strOf(r.properties_target),
    })),
    properties: props.map((r) => ({
      name: String(r.name),
      schema: parse(r.json_schema, `property ${String(r.name)} of namespace ${name}`),
    })),
    objects: objs.map((r) => {
      const schema = parse(r.json_schema, `object ${String(r.name)} of namespace ${name}`);
      const required = strOf(r.required);
      return {
        name: String(r.name),
        description: strOf(r.description),
        required: required ? required.split(',') : [],
        // Glance's own loader stored "null" for an object without properties.
        properties: (schema ?? {}) as Record<string, unknown>,
      };
    }),
    tags: tags.map((r) => String(r.name)),
  };
}

const NAMESPACE_FIELDS = [
  ['display_name', 'displayName'],
  ['description', 'description'],
  ['visibility', 'visibility'],
  ['protected', 'protected'],
  ['owner', 'owner'],
] as const;

function associationFields(a: Association, b: Association): string[] {
  return [
    ...(a.prefix !== b.prefix ? ['prefix'] : []),
    ...(a.propertiesTarget !== b.propertiesTarget ? ['properties_target'] : []),
  ];
}

function objectFields(a: ObjectDef, b: ObjectDef): string[] {
  return [
    ...(a.description !== b.description ? ['description'] : []),
    ...(a.required.join(',') !== b.required.join(',') ? ['required'] : []),
    ...(!jsonEqual(a.properties, b.properties) ? ['json_schema'] : []),
  ];
}

/** What loading doc does to a database holding stored (null: not there), in glance-manage's terms. */
export function planNamespace(file: string, doc: Namespace, stored: Stored | null, mode: LoadMode): NamespacePlan {
  const plan = (status: NamespaceStatus, changes: Change[]): NamespacePlan => ({
    namespace: doc.namespace,
    file,
    status,
    changes,
  });
  if (!stored) {
    return plan('added', [
      { action: 'add', kind: 'namespace', name: doc.namespace },
      ...doc.associations.map((a) => ({
        action: 'add' as const,
        kind: 'resource_type_association' as const,
        name: a.name,
      })),
      ...doc.properties.map((p) => ({ action: 'add' as const, kind: 'property' as const, name: p.name })),
      ...doc.objects.map((o) => ({ action: 'add' as const, kind: 'object' as const, name: o.name })),
      ...doc.tags.map((t) => ({ action: 'add' as const, kind: 'tag' as const, name: t })),
    ]);
  }
  if (!mode.merge) return plan('skipped', []);
  const replace = mode.preferNew || mode.overwrite;
  const changes: Change[] = [];
  const nsFields = NAMESPACE_FIELDS.filter(([, k]) => doc[k] !== stored[k]).map(([col]) => col);
  if (nsFields.length > 0)
    changes.push({ action: replace ? 'update' : 'keep', kind: 'namespace', name: doc.namespace, fields: nsFields });
  const compare = <T extends { name: string } | string>(
    kind: ItemKind,
    mine: T[],
    theirs: T[],
    fields: (a: T, b: T) => string[],
  ) => {
    const nameOf = (x: T) => (typeof x === 'string' ? x : x.name);
    const have = new Map(theirs.map((x) => [nameOf(x), x]));
    const want = new Set(mine.map(nameOf));
    for (const x of mine) {
      const old = have.get(nameOf(x));
      if (old === undefined) changes.push({ action: 'add', kind, name: nameOf(x) });
      else {
        const f = fields(x, old);
        if (f.length > 0) changes.push({ action: replace ? 'update' : 'keep', kind, name: nameOf(x), fields: f });
      }
    }
    for (const x of theirs)
      if (!want.has(nameOf(x))) changes.push({ action: mode.overwrite ? 'remove' : 'extra', kind, name: nameOf(x) });
  };
  compare<Association>('resource_type_association', doc.associations, stored.associations, associationFields);
  compare<PropertyDef>('property', doc.properties, stored.properties, (a, b) =>
    jsonEqual(a.schema, b.schema) ? [] : ['json_schema'],
  );
  compare<ObjectDef>('object', doc.objects, stored.objects, objectFields);
  compare<string>('tag', doc.tags, stored.tags, () => []);
  const changed = changes.some((c) => c.action === 'add' || c.action === 'update' || c.action === 'remove');
  return plan(changed ? 'updated' : 'unchanged', changes);
}

/** Rows per multi-row INSERT. */
const CHUNK = 100;

async function insertRows(s: MetadefsSql, tx: Tx, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    await tx.run(
      s.q(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => tuple).join(', ')}`),
      part.flat(),
    );
  }
}

/** The id of a resource type, created (protected, as glance-manage creates them) when missing. */
async function resourceTypeId(
  s: MetadefsSql,
  tx: Tx,
  name: string,
  now: string,
  cache = s.resourceTypes,
): Promise<number> {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const find = async () => (await tx.query(s.q('SELECT id FROM metadef_resource_types WHERE name = ?'), [name]))[0];
  let row = await find();
  if (!row) {
    await tx.run(s.q('INSERT INTO metadef_resource_types (name, protected, created_at) VALUES (?, ?, ?)'), [
      name,
      s.bool(true),
      now,
    ]);
    row = await find();
  }
  cache.set(name, Number(row.id));
  return Number(row.id);
}

const objectRow = (s: MetadefsSql, o: ObjectDef) => [
  o.name,
  o.description,
  o.required.length > 0 ? o.required.join(',') : null,
  s.json('metadef_objects.json_schema', o.properties),
];

async function insertItems(
  s: MetadefsSql,
  tx: Tx,
  nsId: number,
  doc: Namespace,
  names: { assoc: Set<string>; prop: Set<string>; obj: Set<string>; tag: Set<string> } | null,
  now: string,
): Promise<void> {
  const pick = <T>(items: T[], set: Set<string> | undefined, name: (x: T) => string) =>
    set ? items.filter((x) => set.has(name(x))) : items;
  const assoc = pick(doc.associations, names?.assoc, (a) => a.name);
  const assocRows: unknown[][] = [];
  for (const a of assoc)
    assocRows.push([await resourceTypeId(s, tx, a.name, now), nsId, a.propertiesTarget, a.prefix, now]);
  await insertRows(
    s,
    tx,
    'metadef_namespace_resource_types',
    ['resource_type_id', 'namespace_id', 'properties_target', 'prefix', 'created_at'],
    assocRows,
  );
  await insertRows(
    s,
    tx,
    'metadef_properties',
    ['namespace_id', 'name', 'json_schema', 'created_at'],
    pick(doc.properties, names?.prop, (p) => p.name).map((p) => [
      nsId,
      p.name,
      s.json('metadef_properties.json_schema', p.schema),
      now,
    ]),
  );
  await insertRows(
    s,
    tx,
    'metadef_objects',
    ['namespace_id', 'name', 'description', 'required', 'json_schema', 'created_at'],
    pick(doc.objects, names?.obj, (o) => o.name).map((o) => [nsId, ...objectRow(s, o), now]),
  );
  await insertRows(
    s,
    tx,
    'metadef_tags',
    ['namespace_id', 'name', 'created_at'],
    pick(doc.tags, names?.tag, (t) => t).map((t) => [nsId, t, now]),
  );
}

/** Child tables first: the order foreign keys allow a namespace to be removed in. */
export const NAMESPACE_CHILDREN = [
  'metadef_properties',
  'metadef_objects',
  'metadef_tags',
  'metadef_namespace_resource_types',
];

async function deleteNamespace(s: MetadefsSql, tx: Tx, id: number): Promise<void> {
  for (const t of NAMESPACE_CHILDREN) await tx.run(s.q(`DELETE FROM ${t} WHERE namespace_id = ?`), [id]);
  await tx.run(s.q('DELETE FROM metadef_namespaces WHERE id = ?'), [id]);
}

async function insertNamespace(s: MetadefsSql, tx: Tx, doc: Namespace, now: string): Promise<number> {
  const insert =
    'INSERT INTO metadef_namespaces (namespace, display_name, description, visibility, protected, owner, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
  const values = [
    doc.namespace,
    doc.displayName,
    doc.description,
    doc.visibility,
    s.bool(doc.protected),
    doc.owner,
    now,
  ];
  // One round trip where the database can return the new id (MySQL cannot).
  if (describeDialect(s.dialect).returning)
    return Number((await tx.query(s.q(`${insert} RETURNING id`), values))[0].id);
  await tx.run(insert, values);
  return Number((await tx.query(s.q('SELECT id FROM metadef_namespaces WHERE namespace = ?'), [doc.namespace]))[0].id);
}

/** Reads the namespace, plans, and applies the plan, all inside tx. */
export async function loadNamespace(
  s: MetadefsSql,
  tx: Tx,
  file: string,
  doc: Namespace,
  mode: LoadMode,
): Promise<NamespacePlan> {
  const stored = await readNamespace(s, tx.query, doc.namespace);
  const plan = planNamespace(file, doc, stored, mode);
  if (plan.status === 'skipped' || plan.status === 'unchanged') return plan;
  const now = s.now();
  if (!stored || mode.overwrite) {
    // --overwrite: like glance-manage, the namespace is removed and loaded again from the file.
    if (stored) await deleteNamespace(s, tx, stored.id);
    await insertItems(s, tx, await insertNamespace(s, tx, doc, now), doc, null, now);
    return plan;
  }
  const of = (kind: ItemKind, action: Change['action']) =>
    new Set(plan.changes.filter((c) => c.kind === kind && c.action === action).map((c) => c.name));
  await insertItems(
    s,
    tx,
    stored.id,
    doc,
    {
      assoc: of('resource_type_association', 'add'),
      prop: of('property', 'add'),
      obj: of('object', 'add'),
      tag: of('tag', 'add'),
    },
    now,
  );
  if (plan.changes.some((c) => c.kind === 'namespace' && c.action === 'update')) {
    await tx.run(
      s.q(
        'UPDATE metadef_namespaces SET display_name = ?, description = ?, visibility = ?, protected = ?, owner = ?, updated_at = ? WHERE id = ?',
      ),
      [doc.displayName, doc.description, doc.visibility, s.bool(doc.protected), doc.owner, now, stored.id],
    );
  }
  for (const a of doc.associations.filter((x) => of('resource_type_association', 'update').has(x.name))) {
    await tx.run(
      s.q(
        'UPDATE metadef_namespace_resource_types SET prefix = ?, properties_target = ?, updated_at = ? WHERE namespace_id = ? AND resource_type_id = ?',
      ),
      [a.prefix, a.propertiesTarget, now, stored.id, await resourceTypeId(s, tx, a.name, now)],
    );
  }
  for (const p of doc.properties.filter((x) => of('property', 'update').has(x.name))) {
    await tx.run(
      s.q('UPDATE metadef_properties SET json_schema = ?, updated_at = ? WHERE namespace_id = ? AND name = ?'),
      [s.json('metadef_properties.json_schema', p.schema), now, stored.id, p.name],
    );
  }
  for (const o of doc.objects.filter((x) => of('object', 'update').has(x.name))) {
    const [, description, required, schema] = objectRow(s, o);
    await tx.run(
      s.q(
        'UPDATE metadef_objects SET description = ?, required = ?, json_schema = ?, updated_at = ? WHERE namespace_id = ? AND name = ?',
      ),
      [description, required, schema, now, stored.id, o.name],
    );
  }
  return plan;
}

/** Every metadef table, in the order they can be emptied (children first), as glance-manage's unload does. */
export const METADEF_TABLES = [...NAMESPACE_CHILDREN, 'metadef_namespaces', 'metadef_resource_types'];
