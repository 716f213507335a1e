// metadefs load, diff, export and unload, on a database at any version from
// 42 on that glance-db or glance-manage manages (engine/require-latest.ts). load reads and validates every document first; then, in one
// transaction for the whole load, checks every value against the live
// columns and reads, plans and writes each namespace: all or nothing.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Driver } from '../drivers/driver.js';
import { DataFailedError, GlanceDbError, MetadefsInvalidError, OutputError } from '../errors.js';
import type { RunContext } from '../engine/context.js';
import { requireDataReady, withDataDatabase } from '../engine/require-latest.js';
import { makeOutputFolder, writeOutputFile } from '../util/output.js';
import { invalidDefinitions, MAX_DEPTH, readDocuments, toDocument } from './document.js';
import { depthOf, stringify } from './json.js';
import { namespaceProblems, readLimits } from './limits.js';
import type { NamespaceFile } from './model.js';
import { loadNamespace, METADEF_TABLES, MetadefsSql, namespaceNames, planNamespace, readNamespace, type LoadMode, type NamespacePlan } from './store.js';

export async function loadMetadefs(ctx: RunContext, path: string, mode: LoadMode): Promise<NamespacePlan[]> {
  const docs = readDocuments(path);
  return withDataDatabase(ctx, 'metadefs load', 'metadefs', true, async (driver) => {
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
  });
}

/**
 * Inside the transaction, before its first write: the version again (on
 * PostgreSQL the lock was only just taken, and a sync may have run since the
 * first check), then every value of every file against the live columns.
 */
async function checkUnderLock(ctx: RunContext, driver: Driver, s: MetadefsSql, command: string, docs: NamespaceFile[]): Promise<void> {
  await requireDataReady(ctx, driver, command, 'metadefs');
  s.limits = await readLimits(driver);
  const problems = docs.flatMap((d) => namespaceProblems(d, s.limits!));
  if (problems.length > 0) throw invalidDefinitions(`Values the ${driver.dialect} database cannot hold as written; nothing was loaded`, problems, LIMITS_HINT);
}

const LIMITS_HINT = 'Change the values named above (or widen the column the message names) and run the load again; nothing is stored changed, nothing was written.';

function writeFailed(driver: Driver, d: NamespaceFile | null, err: unknown): GlanceDbError {
  if (err instanceof GlanceDbError) return err;
  const where = d ? ` at namespace ${d.ns.namespace} from ${d.file}` : '';
  return new DataFailedError(
    `metadefs load failed${where} (${driver.dialect}): ${(err as Error).message}. The load was one transaction and is rolled back: nothing was written.`,
    { cause: err, fields: d ? { file: d.file, namespace: d.ns.namespace } : {}, hint: 'Fix the file (or the database) and run the load again.' },
  );
}

/** What `load --merge` (with --prefer-new / --overwrite if given) would do; reads only. Values the database cannot hold are exit 28, as the load. */
export async function diffMetadefs(ctx: RunContext, path: string, mode: Omit<LoadMode, 'merge'>): Promise<NamespacePlan[]> {
  const docs = readDocuments(path);
  return withDataDatabase(ctx, 'metadefs diff', 'metadefs', false, async (driver) => {
    const s = new MetadefsSql(driver.dialect);
    s.limits = await readLimits(driver);
    const problems = docs.flatMap((d) => namespaceProblems(d, s.limits!));
    if (problems.length > 0) throw invalidDefinitions(`Values the ${driver.dialect} database cannot hold as written; a load would write nothing`, problems, LIMITS_HINT);
    const plans: NamespacePlan[] = [];
    for (const d of docs) plans.push(planNamespace(d.file, d.ns, await readNamespace(s, driver.query, d.ns.namespace), { merge: true, ...mode }));
    return plans;
  });
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
export async function exportMetadefs(ctx: RunContext, path: string, warn: (text: string) => void): Promise<ExportedFile[]> {
  if (existsSync(path) && !statSync(path).isDirectory()) {
    throw new MetadefsInvalidError(`${path} is not a folder; metadefs export writes one file per namespace into a folder.`, { fields: { file: path } });
  }
  return withDataDatabase(ctx, 'metadefs export', 'metadefs', false, async (driver) => {
    const s = new MetadefsSql(driver.dialect);
    const out: ExportedFile[] = [];
    const used = new Set<string>();
    const docs: { name: string; text: string }[] = [];
    for (const name of await namespaceNames(driver.query)) {
      const ns = (await readNamespace(s, driver.query, name))!;
      const base = fileBase(ns.displayName ?? ns.namespace) || 'namespace';
      let file = `${base}.json`;
      for (let i = 2; used.has(file.toLowerCase()); i++) file = `${base}-${i}.json`;
      used.add(file.toLowerCase());
      const doc = toDocument(ns);
      const depth = depthOf(doc);
      if (depth > MAX_DEPTH) warn(`${join(path, file)} (namespace ${ns.namespace}) nests ${depth} levels deep, more than the ${MAX_DEPTH} metadefs load reads (and past what Glance's own JSON reader handles): it will not load back as it is.`);
      docs.push({ name: file, text: `${stringify(doc, { indent: 4 })}\n` });
      out.push({ namespace: ns.namespace, file: join(path, file), overwrote: false });
    }
    // Everything read first; then the files.
    try {
      makeOutputFolder(path, 0o755, (why) => new OutputError(why));
      docs.forEach((d, i) => {
        out[i].overwrote = existsSync(out[i].file);
        writeOutputFile(out[i].file, d.text, 'the namespace file', undefined, { fail: (why) => new OutputError(`${d.name}: ${why}`) });
      });
    } catch (err) {
      throw new MetadefsInvalidError(`Cannot write the metadefs files into ${path}: ${(err as Error).message}.`, { fields: { file: path } });
    }
    return out;
  });
}

/** glance-manage's file name: the display name with every run of non-word characters and underscores removed. */
export function fileBase(displayName: string): string {
  return displayName.replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Empties the six metadef tables in one transaction (under the migration lock); returns the rows deleted per table. */
export async function unloadMetadefs(ctx: RunContext): Promise<{ table: string; rows: number }[]> {
  return withDataDatabase(ctx, 'metadefs unload', 'metadefs', true, (driver) =>
    driver.transaction(async (tx) => {
      await requireDataReady(ctx, driver, 'metadefs unload', 'metadefs');
      const counts: { table: string; rows: number }[] = [];
      for (const table of METADEF_TABLES) counts.push({ table, rows: await tx.run(`DELETE FROM ${table}`) });
      return counts;
    }));
}
