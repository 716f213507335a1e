// The six metadef_* tables: reading one namespace back into the model and
// planning what a load changes (glance-manage's --merge, --prefer-new and
// --overwrite); ./store-write.ts applies that plan inside one transaction.
import { describeDialect, type Dialect } from '../../core/driver/dialect.js';
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
