// Applying a load's plan (./store.ts) to the six metadef_* tables inside one
// transaction: a namespace inserted whole, or deleted and inserted again
// (glance-manage's --overwrite), with its resource types, properties,
// objects and tags in multi-row INSERTs.
import { describeDialect } from '../../core/driver/dialect.js';
import type { Tx } from '../../core/driver/driver.js';
import {
  planNamespace,
  readNamespace,
  type Change,
  type ItemKind,
  type LoadMode,
  type MetadefsSql,
  type NamespacePlan,
} from './store.js';
import type { Namespace, ObjectDef } from './model.js';

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
