// PostgreSQL introspection from pg_catalog, in the current schema (glance-db
// never hard-codes one). Casts that pg_get_expr adds to defaults
// ('active'::character varying) are dropped so defaults compare by value.
import type { ColumnModel, ObjectModel, Query, SchemaModel, TableModel } from '../../core/introspect/model.js';
import { normalizeSql, sortObjects } from '../../core/introspect/normalize.js';

const list = (v: unknown) => (v ? String(v).split(',') : []);
const byJson = <T>(a: T, b: T) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** 'active'::character varying -> 'active'; nextval('x_seq'::regclass) -> nextval('x_seq'). */
export function normalizePgDefault(d: unknown): string | null {
  if (d === null || d === undefined) return null;
  return String(d)
    .replace(/::[a-z_][\w .]*(\([^)]*\))?(\[\])?/gi, '')
    .trim();
}

/** CHECK ((deleted = ANY (ARRAY[0, 1]))) -> deleted = any (array[0, 1]) */
function normalizeCheck(def: string): string {
  let s = def
    .replace(/^CHECK\s*/i, '')
    .replace(/\s+NOT VALID$/i, '')
    .trim();
  while (s.startsWith('(') && s.endsWith(')')) s = s.slice(1, -1).trim();
  return s.replace(/\s+/g, ' ').toLowerCase();
}

const COLUMNS = `
  SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
         NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS dflt
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY c.relname, a.attnum`;

const CONSTRAINTS = `
  SELECT c.relname AS table_name, con.conname AS name, con.contype AS kind, pg_get_constraintdef(con.oid) AS def,
         array_to_string(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols,
         fc.relname AS ref_table, con.confdeltype AS on_delete, con.confupdtype AS on_update, con.confmatchtype AS match,
         con.condeferrable AS deferrable, con.condeferred AS deferred, con.convalidated AS validated,
         array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o), ',') AS ref_cols
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class fc ON fc.oid = con.confrelid
   WHERE n.nspname = current_schema()`;

// Indexes that do not back a primary key or unique constraint.
const INDEXES = `
  SELECT t.relname AS table_name, i.relname AS name, ix.indisunique AS is_unique, pg_get_expr(ix.indpred, ix.indrelid, true) AS predicate,
         array_to_string(ARRAY(SELECT coalesce(a.attname, pg_get_indexdef(ix.indexrelid, k.o::int, true))
           FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, o)
           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), chr(31)) AS cols
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = current_schema()
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u', 'x'))`;

const ENUMS = `
  SELECT t.typname AS name, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = current_schema() GROUP BY t.typname`;

// Triggers a user made (not the internal ones behind foreign keys), with whether they fire.
const TRIGGERS = `
  SELECT c.relname AS table_name, t.tgname AS name, t.tgtype AS type, t.tgenabled AS enabled, pg_get_triggerdef(t.oid) AS def
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND NOT t.tgisinternal`;

// Functions, procedures and aggregates of the schema, except those an extension brought. The
// definition is built from the catalog's parts (the body as written, language, result, options)
// rather than pg_get_functiondef, whose layout may change from one PostgreSQL release to the next.
const ROUTINES = `
  SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, p.prokind AS kind,
         pg_get_function_result(p.oid) AS result, l.lanname AS language, p.prosrc AS body, p.prosecdef AS definer,
         p.provolatile AS volatility, p.proisstrict AS strict, array_to_string(p.proconfig, ',') AS config
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
   WHERE n.nspname = current_schema()
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`;

const VIEWS = `
  SELECT c.relname AS name, c.relkind AS kind, pg_get_viewdef(c.oid, true) AS def, array_to_string(c.reloptions, ',') AS options
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`;

// Rewrite rules (a view's own _RETURN rule is not listed by pg_rules).
const RULES = `SELECT tablename AS table_name, rulename AS name, definition AS def FROM pg_rules WHERE schemaname = current_schema()`;

const POLICIES = `
  SELECT tablename AS table_name, policyname AS name, permissive, array_to_string(roles, ',') AS roles, cmd, qual, with_check
    FROM pg_policies WHERE schemaname = current_schema()`;

const ROW_SECURITY = `
  SELECT c.relname AS table_name, c.relforcerowsecurity AS forced
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relrowsecurity`;

const ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** BEFORE INSERT OR UPDATE, FOR EACH STATEMENT when not per row: from pg_trigger.tgtype's bits. */
export function pgTriggerSummary(tgtype: number): string {
  const timing = tgtype & 64 ? 'INSTEAD OF' : tgtype & 2 ? 'BEFORE' : 'AFTER';
  const events = [
    [4, 'INSERT'],
    [16, 'UPDATE'],
    [8, 'DELETE'],
    [32, 'TRUNCATE'],
  ]
    .filter(([bit]) => tgtype & (bit as number))
    .map(([, e]) => e);
  return `${timing} ${events.join(' OR ')}${tgtype & 1 ? '' : ' FOR EACH STATEMENT'}`;
}

async function objectsOf(query: Query, schema: string): Promise<ObjectModel[]> {
  const norm = (sql: unknown) =>
    normalizeSql(String(sql ?? ''), { qualifier: schema }).replace(/ execute procedure /g, ' execute function ');
  const objects: ObjectModel[] = [];
  for (const r of await query(TRIGGERS)) {
    // O: fires (the default); D: disabled; R, A: only as a replica / always.
    const state =
      ({ D: ' DISABLED', R: ' ENABLE REPLICA', A: ' ENABLE ALWAYS' } as Record<string, string>)[String(r.enabled)] ??
      '';
    objects.push({
      type: 'trigger',
      name: String(r.name),
      table: String(r.table_name),
      summary: `${pgTriggerSummary(Number(r.type))}${state}`,
      definition: `${norm(r.def)}${state.toLowerCase()}`,
    });
  }
  const kinds: Record<string, string> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'function' };
  for (const r of await query(ROUTINES)) {
    const type = kinds[String(r.kind)] ?? 'function';
    const options = [
      r.result ? `returns ${norm(r.result)}` : '',
      `language ${r.language}`,
      r.definer === true ? 'security definer' : '',
      r.strict === true ? 'strict' : '',
      ({ i: 'immutable', s: 'stable' } as Record<string, string>)[String(r.volatility)] ?? '',
      r.config ? `set ${norm(r.config)}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    objects.push({
      type,
      name: String(r.name),
      table: null,
      summary: '',
      definition: `${type} ${String(r.name).toLowerCase()} ${options} as $$ ${norm(r.body)} $$`,
    });
  }
  for (const r of await query(VIEWS)) {
    objects.push({
      type: r.kind === 'm' ? 'materialized view' : 'view',
      name: String(r.name),
      table: null,
      summary: '',
      definition: `${norm(r.def)}${r.options ? ` with ( ${norm(r.options)} )` : ''}`,
    });
  }
  for (const r of await query(RULES))
    objects.push({
      type: 'rule',
      name: String(r.name),
      table: String(r.table_name),
      summary: '',
      definition: norm(r.def),
    });
  for (const r of await query(POLICIES)) {
    const def = `${String(r.permissive).toLowerCase()} for ${String(r.cmd).toLowerCase()} to ${r.roles}${r.qual !== null ? ` using ( ${norm(r.qual)} )` : ''}${r.with_check !== null ? ` with check ( ${norm(r.with_check)} )` : ''}`;
    objects.push({
      type: 'policy',
      name: String(r.name),
      table: String(r.table_name),
      summary: `${String(r.permissive).toUpperCase()} FOR ${String(r.cmd).toUpperCase()}`,
      definition: def,
    });
  }
  return sortObjects(objects);
}

function emptyTable(name: string): TableModel {
  return { name, columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [], checks: [], options: {} };
}

function addConstraint(t: TableModel, r: Record<string, unknown>): void {
  const cols = list(r.cols);
  if (r.kind === 'p') t.primaryKey = cols;
  else if (r.kind === 'u') t.uniques.push({ name: String(r.name), columns: cols });
  else if (r.kind === 'f') {
    const options = [
      r.match === 'f' ? 'MATCH FULL' : r.match === 'p' ? 'MATCH PARTIAL' : '',
      r.deferrable ? 'DEFERRABLE' : '',
      r.deferred ? 'INITIALLY DEFERRED' : '',
      r.validated === false ? 'NOT VALID' : '',
    ]
      .filter(Boolean)
      .join(' ');
    t.foreignKeys.push({
      columns: cols,
      refTable: String(r.ref_table),
      refColumns: list(r.ref_cols),
      onDelete: ACTIONS[String(r.on_delete)] ?? String(r.on_delete),
      onUpdate: ACTIONS[String(r.on_update)] ?? String(r.on_update),
      ...(options ? { options } : {}),
    });
  } else if (r.kind === 'c') t.checks.push(normalizeCheck(String(r.def)));
}

export async function introspectPostgres(query: Query): Promise<SchemaModel> {
  const tables: Record<string, TableModel> = {};
  const table = (name: unknown) => (tables[String(name)] ??= emptyTable(String(name)));
  for (const r of await query(COLUMNS)) {
    const col: ColumnModel = {
      name: String(r.column_name),
      type: String(r.type).toLowerCase(),
      nullable: r.nullable === true,
      default: normalizePgDefault(r.dflt),
    };
    table(r.table_name).columns[col.name] = col;
  }
  for (const r of await query(CONSTRAINTS)) if (tables[String(r.table_name)]) addConstraint(table(r.table_name), r);
  for (const r of await query(INDEXES)) {
    if (tables[String(r.table_name)])
      table(r.table_name).indexes.push({
        name: String(r.name),
        columns: r.cols ? String(r.cols).split('\u001f') : [],
        unique: r.is_unique === true,
        ...(r.predicate !== null && r.predicate !== undefined ? { where: normalizeSql(String(r.predicate)) } : {}),
      });
  }
  for (const t of Object.values(tables)) {
    t.uniques.sort(byJson);
    t.indexes.sort((a, b) => a.name.localeCompare(b.name));
    t.foreignKeys.sort(byJson);
    t.checks.sort();
  }
  for (const r of await query(ROW_SECURITY))
    if (tables[String(r.table_name)])
      table(r.table_name).options['row-level security'] = r.forced === true ? 'forced' : 'enabled';
  const enums: Record<string, string[]> = {};
  for (const r of await query(ENUMS)) enums[String(r.name)] = list(r.labels);
  const schema = String((await query('SELECT current_schema() AS s'))[0]?.s ?? 'public');
  return { dialect: 'postgresql', tables, enums, objects: await objectsOf(query, schema) };
}
