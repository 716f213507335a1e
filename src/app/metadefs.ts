// metadefs load, diff, export and unload, on a database at any version from
// 42 on that glance-db or glance-manage manages (engine/require-latest.ts). load reads and validates every document first; then, in one
// transaction for the whole load, checks every value against the live
// columns and reads, plans and writes each namespace: all or nothing.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DIALECTS } from '../dialects/index.js';
import type { Driver } from '../core/driver/driver.js';
import { DataFailedError, GlanceDbError, MetadefsInvalidError, OutputError } from '../platform/errors.js';
import type { RunContext } from '../core/run-context.js';
import { createDriver } from '../dialects/create-driver.js';
import { requireDataReady, withDataDatabase } from '../glance/require-latest.js';
import { makeOutputFolder, writeOutputFiles } from '../platform/output.js';
import { invalidDefinitions, MAX_DEPTH, readDocuments, toDocument } from '../glance/metadefs/document.js';
import { depthOf, pythonDumps, stringify } from '../glance/metadefs/json.js';
import { JsonSyntaxError, parseJson } from '../glance/metadefs/json-parse.js';
import { namespaceProblems, readLimits } from '../glance/metadefs/limits.js';
import type { NamespaceFile } from '../glance/metadefs/model.js';
import {
  MetadefsSql,
  namespaceNames,
  planNamespace,
  readNamespace,
  type LoadMode,
  type NamespacePlan,
} from '../glance/metadefs/store.js';
import { loadNamespace, METADEF_TABLES } from '../glance/metadefs/store-write.js';

export async function loadMetadefs(ctx: RunContext, path: string, mode: LoadMode): Promise<NamespacePlan[]> {
  const docs = readDocuments(path);
  return withDataDatabase(
    ctx,
    await createDriver(ctx.driverConfig()),
    'metadefs load',
    'metadefs',
    true,
    async (driver) => {
      const s = new MetadefsSql(driver.dialect);
      let at: NamespaceFile | null = null;
      try {
        // One transaction for the whole load: all of it is committed, or nothing.
        // PostgreSQL takes the migration lock as it begins and holds it to the end.
        return await driver.transaction(async (tx) => {
          await checkUnderLock(ctx, driver, s, 'metadefs load', docs);
          const plans: NamespacePlan[] = [];
          for (const d of docs) {
            at = d;
            plans.push(await loadNamespace(s, tx, d.file, d.ns, mode));
          }
          return plans;
        });
      } catch (err) {
        throw writeFailed(driver, at, err);
      }
    },
  );
}

/**
 * Inside the transaction, before its first write: the version again (on
 * PostgreSQL the lock was only just taken, and a sync may have run since the
 * first check), then every value of every file against the live columns.
 */
async function checkUnderLock(
  ctx: RunContext,
  driver: Driver,
  s: MetadefsSql,
  command: string,
  docs: NamespaceFile[],
): Promise<void> {
  await requireDataReady(ctx, driver, command, 'metadefs');
  s.limits = await readLimits(driver);
  const problems = docs.flatMap((d) => namespaceProblems(d, s.limits!));
  if (problems.length > 0)
    throw invalidDefinitions(
      `Values the ${driver.dialect} database cannot hold as written; nothing was loaded`,
      problems,
      LIMITS_HINT,
    );
}

const LIMITS_HINT =
  'Change the values named above (or widen the column the message names) and run the load again; nothing is stored changed, nothing was written.';

function writeFailed(driver: Driver, d: NamespaceFile | null, err: unknown): GlanceDbError {
  if (err instanceof GlanceDbError) return err;
  const where = d ? ` at namespace ${d.ns.namespace} from ${d.file}` : '';
  return new DataFailedError(
    `metadefs load failed${where} (${driver.dialect}): ${(err as Error).message}. The load was one transaction and is rolled back: nothing was written.`,
    {
      cause: err,
      fields: d ? { file: d.file, namespace: d.ns.namespace } : {},
      hint: 'Fix the file (or the database) and run the load again.',
    },
  );
}

/** What `load --merge` (with --prefer-new / --overwrite if given) would do; reads only. Values the database cannot hold are exit 28, as the load. */
export async function diffMetadefs(
  ctx: RunContext,
  path: string,
  mode: Omit<LoadMode, 'merge'>,
): Promise<NamespacePlan[]> {
  const docs = readDocuments(path);
  return withDataDatabase(
    ctx,
    await createDriver(ctx.driverConfig()),
    'metadefs diff',
    'metadefs',
    false,
    async (driver) => {
      const s = new MetadefsSql(driver.dialect);
      s.limits = await readLimits(driver);
      const problems = docs.flatMap((d) => namespaceProblems(d, s.limits!));
      if (problems.length > 0)
        throw invalidDefinitions(
          `Values the ${driver.dialect} database cannot hold as written; a load would write nothing`,
          problems,
          LIMITS_HINT,
        );
      const plans: NamespacePlan[] = [];
      for (const d of docs)
        plans.push(
          planNamespace(d.file, d.ns, await readNamespace(s, driver.query, d.ns.namespace), { merge: true, ...mode }),
        );
      return plans;
    },
  );
}

export interface ExportedFile {
  namespace: string;
  file: string;
  overwrote: boolean;
}

/**
 * One file per namespace, named like glance-manage names them (the display
 * name without anything but letters and digits), made unique with -2, -3
 * where two namespaces would share a name (glance-manage overwrote one).
 */
export type ExportFormat = 'glance-db' | 'glance-manage';

export async function exportMetadefs(
  ctx: RunContext,
  path: string,
  warn: (text: string) => void,
  format: ExportFormat = 'glance-db',
): Promise<ExportedFile[]> {
  if (existsSync(path) && !statSync(path).isDirectory()) {
    throw new MetadefsInvalidError(
      `${path} is not a folder; metadefs export writes one file per namespace into a folder.`,
      { fields: { file: path } },
    );
  }
  return withDataDatabase(
    ctx,
    await createDriver(ctx.driverConfig()),
    'metadefs export',
    'metadefs',
    false,
    async (driver) => {
      const s = new MetadefsSql(driver.dialect);
      const out: ExportedFile[] = [];
      const used = new Set<string>();
      const docs: { name: string; text: string }[] = [];
      if (format === 'glance-manage') {
        for (const d of await glanceManageDocuments(driver)) {
          const base = fileBase(d.displayName ?? d.namespace) || 'namespace';
          let file = `${base}.json`;
          for (let i = 2; used.has(file.toLowerCase()); i++) file = `${base}-${i}.json`;
          used.add(file.toLowerCase());
          docs.push({ name: file, text: d.text });
          out.push({ namespace: d.namespace, file: join(path, file), overwrote: false });
        }
      }
      for (const name of format === 'glance-manage' ? [] : await namespaceNames(driver.query)) {
        const ns = (await readNamespace(s, driver.query, name))!;
        const base = fileBase(ns.displayName ?? ns.namespace) || 'namespace';
        let file = `${base}.json`;
        for (let i = 2; used.has(file.toLowerCase()); i++) file = `${base}-${i}.json`;
        used.add(file.toLowerCase());
        const doc = toDocument(ns);
        const depth = depthOf(doc);
        if (depth > MAX_DEPTH)
          warn(
            `${join(path, file)} (namespace ${ns.namespace}) nests ${depth} levels deep, more than the ${MAX_DEPTH} metadefs load reads (and past what Glance's own JSON reader handles): it will not load back as it is.`,
          );
        docs.push({ name: file, text: `${stringify(doc, { indent: 4 })}\n` });
        out.push({ namespace: ns.namespace, file: join(path, file), overwrote: false });
      }
      // Everything read first; then the files.
      try {
        makeOutputFolder(path, 0o755, (why) => new OutputError(why));
        // All or none: a refused name among them leaves none of the files written.
        docs.forEach((_, i) => (out[i].overwrote = existsSync(out[i].file)));
        writeOutputFiles(
          docs.map((d, i) => ({
            path: out[i].file,
            data: d.text,
            opts: { fail: (why: string) => new OutputError(`${d.name}: ${why}`) },
          })),
          'the namespace file',
        );
      } catch (err) {
        throw new MetadefsInvalidError(`Cannot write the metadefs files into ${path}: ${(err as Error).message}.`, {
          fields: { file: path },
        });
      }
      return out;
    },
  );
}

/**
 * The files glance-manage db export_metadefs writes
 * (glance/db/sqlalchemy/metadata.py _export_data_to_file): per namespace
 * json.dumps of namespace, display_name, description, visibility, protected
 * (as the driver hands the column to Python: 1/0 on MySQL, true/false
 * elsewhere), resource_type_associations (name, prefix, properties_target),
 * properties, objects (name, description, properties: json_schema as
 * stored, so an object glance-manage loaded without properties has null),
 * tags; every null written, no owner and no object's required (glance-manage
 * exports neither), one line, no newline at the end. Its SELECTs have no
 * ORDER BY; the rows come in the order the database returns them for its
 * plan: the namespaces by id; an association's by resource type id on
 * MySQL (its index), in table order elsewhere; properties, objects and tags
 * by name on MySQL and SQLite (their unique index on namespace and name),
 * in table order on PostgreSQL.
 */
async function glanceManageDocuments(
  driver: Driver,
): Promise<{ namespace: string; displayName: string | null; text: string }[]> {
  const gm = DIALECTS[driver.dialect].pythonReads;
  const out: { namespace: string; displayName: string | null; text: string }[] = [];
  for (const ns of await driver.query(
    'SELECT id, namespace, display_name, description, visibility, protected FROM metadef_namespaces ORDER BY id',
  )) {
    const name = String(ns.namespace);
    const { assoc, props, objs, tags } = await namespaceRows(driver, Number(ns.id));
    const properties: Record<string, unknown> = {};
    for (const p of props)
      properties[String(p.name)] = schemaJson(p.json_schema, `property ${String(p.name)} of namespace ${name}`);
    const protectedValue =
      ns.protected === null || ns.protected === undefined
        ? null
        : gm.intBooleans
          ? Number(ns.protected)
          : ns.protected === true || Number(ns.protected) === 1;
    const values = {
      namespace: name,
      display_name: ns.display_name ?? null,
      description: ns.description ?? null,
      visibility: ns.visibility ?? null,
      protected: protectedValue,
      resource_type_associations: assoc.map((a) => ({
        name: a.name,
        prefix: a.prefix ?? null,
        properties_target: a.properties_target ?? null,
      })),
      properties,
      objects: objs.map((o) => ({
        name: o.name,
        description: o.description ?? null,
        properties: schemaJson(o.json_schema, `object ${String(o.name)} of namespace ${name}`),
      })),
      tags: tags.map((t) => ({ name: t.name })),
    };
    out.push({
      namespace: name,
      displayName: ns.display_name === null || ns.display_name === undefined ? null : String(ns.display_name),
      text: pythonDumps(values),
    });
  }
  return out;
}

/** A namespace's resource type associations, properties, objects and tags, in the order glance-manage's export gets them. */
async function namespaceRows(driver: Driver, id: number) {
  const s = new MetadefsSql(driver.dialect);
  const gm = DIALECTS[driver.dialect].pythonReads;
  const assoc = await driver.query(
    s.q(
      `SELECT rt.name, a.prefix, a.properties_target FROM metadef_namespace_resource_types a JOIN metadef_resource_types rt ON rt.id = a.resource_type_id WHERE a.namespace_id = ? ORDER BY ${gm.associationOrder('a')}`,
    ),
    [id],
  );
  const props = await driver.query(
    s.q(
      `SELECT p.name, p.json_schema FROM metadef_properties p WHERE p.namespace_id = ? ORDER BY ${gm.itemOrder('p')}`,
    ),
    [id],
  );
  const objs = await driver.query(
    s.q(
      `SELECT o.name, o.description, o.json_schema FROM metadef_objects o WHERE o.namespace_id = ? ORDER BY ${gm.itemOrder('o')}`,
    ),
    [id],
  );
  const tags = await driver.query(
    s.q(`SELECT t.name FROM metadef_tags t WHERE t.namespace_id = ? ORDER BY ${gm.itemOrder('t')}`),
    [id],
  );
  return { assoc, props, objs, tags };
}

/** A json_schema column's value, parsed; a value that is not JSON stops the export, as glance-manage's does. */
function schemaJson(v: unknown, where: string): unknown {
  try {
    return parseJson(String(v)).value;
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new DataFailedError(
      `The json_schema of ${where} in the database is not JSON (${err.message} at character ${err.offset + 1}); glance-manage's export would stop there too.`,
      {
        hint: 'Fix that row (or remove the namespace with metadefs load --merge --overwrite from a good file) and run the command again.',
      },
    );
  }
}

/** glance-manage's file name: the display name with every run of non-word characters and underscores removed. */
export function fileBase(displayName: string): string {
  return displayName.replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Empties the six metadef tables in one transaction (under the migration lock); returns the rows deleted per table. */
export async function unloadMetadefs(ctx: RunContext): Promise<{ table: string; rows: number }[]> {
  return withDataDatabase(ctx, await createDriver(ctx.driverConfig()), 'metadefs unload', 'metadefs', true, (driver) =>
    driver.transaction(async (tx) => {
      await requireDataReady(ctx, driver, 'metadefs unload', 'metadefs');
      const counts: { table: string; rows: number }[] = [];
      for (const table of METADEF_TABLES) counts.push({ table, rows: await tx.run(`DELETE FROM ${table}`) });
      return counts;
    }),
  );
}
