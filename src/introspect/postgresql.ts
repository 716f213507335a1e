// PostgreSQL introspection from pg_catalog, in the current schema (glance-db
// never hard-codes one). Casts that pg_get_expr adds to defaults
// ('active'::character varying) are dropped so defaults compare by value.
import type { ColumnModel, Query, SchemaModel, TableModel } from './model.js';

const list = (v: unknown) => (v ? String(v).split(',') : []);
const byJson = <T>(a: T, b: T) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** 'active'::character varying -> 'active'; nextval('x_seq'::regclass) -> nextval('x_seq'). */
export function normalizePgDefault(d: unknown): string | null {
  if (d === null || d === undefined) return null;
  return String(d).replace(/::[a-z_][\w .]*(\([^)]*\))?(\[\])?/gi, '').trim();
}

/** CHECK ((deleted = ANY (ARRAY[0, 1]))) -> deleted = any (array[0, 1]) */
function normalizeCheck(def: string): string {
  let s = def.replace(/^CHECK\s*/i, '').replace(/\s+NOT VALID$/i, '').trim();
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
         fc.relname AS ref_table,
         array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o), ',') AS ref_cols
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class fc ON fc.oid = con.confrelid
   WHERE n.nspname = current_schema()`;

// Indexes that do not back a primary key or unique constraint.
const INDEXES = `
  SELECT t.relname AS table_name, i.relname AS name, ix.indisunique AS is_unique,
         array_to_string(ARRAY(SELECT coalesce(a.attname, pg_get_indexdef(ix.indexrelid, k.o::int, true))
           FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, o)
           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o), ',') AS cols
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

function emptyTable(name: string): TableModel {
  return { name, columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [], checks: [], options: {} };
}

function addConstraint(t: TableModel, r: Record<string, unknown>): void {
  const cols = list(r.cols);
  if (r.kind === 'p') t.primaryKey = cols;
  else if (r.kind === 'u') t.uniques.push({ name: String(r.name), columns: cols });
  else if (r.kind === 'f') t.foreignKeys.push({ columns: cols, refTable: String(r.ref_table), refColumns: list(r.ref_cols) });
  else if (r.kind === 'c') t.checks.push(normalizeCheck(String(r.def)));
}

export async function introspectPostgres(query: Query): Promise<SchemaModel> {
  const tables: Record<string, TableModel> = {};
  const table = (name: unknown) => (tables[String(name)] ??= emptyTable(String(name)));
  for (const r of await query(COLUMNS)) {
    const col: ColumnModel = { name: String(r.column_name), type: String(r.type).toLowerCase(), nullable: r.nullable === true, default: normalizePgDefault(r.dflt) };
    table(r.table_name).columns[col.name] = col;
  }
  for (const r of await query(CONSTRAINTS)) if (tables[String(r.table_name)]) addConstraint(table(r.table_name), r);
  for (const r of await query(INDEXES)) {
    if (tables[String(r.table_name)]) table(r.table_name).indexes.push({ name: String(r.name), columns: list(r.cols), unique: r.is_unique === true });
  }
  for (const t of Object.values(tables)) {
    t.uniques.sort(byJson);
    t.indexes.sort((a, b) => a.name.localeCompare(b.name));
    t.foreignKeys.sort(byJson);
    t.checks.sort();
  }
  const enums: Record<string, string[]> = {};
  for (const r of await query(ENUMS)) enums[String(r.name)] = list(r.labels);
  return { dialect: 'postgresql', tables, enums };
}
