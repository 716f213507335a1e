// metadefs load, diff, export and unload against a database at the newest
// version. load reads and validates every document first; then each
// namespace is read, planned and written in one transaction of its own.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Driver } from '../drivers/driver.js';
import { DataFailedError, GlanceDbError, MetadefsInvalidError, OutputError } from '../errors.js';
import type { RunContext } from '../engine/context.js';
import { withLatestDatabase } from '../engine/require-latest.js';
import { makeOutputFolder, writeOutputFile } from '../util/output.js';
import { readDocuments, toDocument } from './document.js';
import type { NamespaceFile } from './model.js';
import { loadNamespace, METADEF_TABLES, MetadefsSql, namespaceNames, planNamespace, readNamespace, type LoadMode, type NamespacePlan } from './store.js';

export async function loadMetadefs(ctx: RunContext, path: string, mode: LoadMode, progress: (p: NamespacePlan) => void): Promise<NamespacePlan[]> {
  const docs = readDocuments(path);
  return withLatestDatabase(ctx, 'metadefs load', true, async (driver) => {
    const s = new MetadefsSql(driver.dialect);
    const plans: NamespacePlan[] = [];
    try {
      for (const d of docs) {
        let plan: NamespacePlan;
        try {
          // SQLite: committed in memory, written back once at the end (or when a later namespace fails).
          plan = await driver.transaction((tx) => loadNamespace(s, tx, d.file, d.ns, mode), { deferWriteBack: true });
        } catch (err) {
          throw writeFailed(driver, d, plans.length, docs.length, err);
        }
        plans.push(plan);
        progress(plan);
      }
    } finally {
      await driver.flush();
    }
    return plans;
  });
}

function writeFailed(driver: Driver, d: NamespaceFile, done: number, total: number, err: unknown): GlanceDbError {
  if (err instanceof GlanceDbError) return err;
  return new DataFailedError(
    `Loading namespace ${d.ns.namespace} from ${d.file} failed (${driver.dialect}): ${(err as Error).message}. That namespace was rolled back; ` +
      `the ${done} namespace(s) before it are loaded, the ${total - done - 1} after it were not tried.`,
    { cause: err, fields: { file: d.file, namespace: d.ns.namespace }, hint: 'Fix the file (or the database) and run the load again: namespaces already loaded are skipped or merged as usual.' },
  );
}

/** What `load --merge` (with --prefer-new / --overwrite if given) would do; reads only. */
export async function diffMetadefs(ctx: RunContext, path: string, mode: Omit<LoadMode, 'merge'>): Promise<NamespacePlan[]> {
  const docs = readDocuments(path);
  return withLatestDatabase(ctx, 'metadefs diff', false, async (driver) => {
    const s = new MetadefsSql(driver.dialect);
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
export async function exportMetadefs(ctx: RunContext, path: string): Promise<ExportedFile[]> {
  if (existsSync(path) && !statSync(path).isDirectory()) {
    throw new MetadefsInvalidError(`${path} is not a folder; metadefs export writes one file per namespace into a folder.`, { fields: { file: path } });
  }
  return withLatestDatabase(ctx, 'metadefs export', false, async (driver) => {
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
      docs.push({ name: file, text: `${JSON.stringify(toDocument(ns), null, 4)}\n` });
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

/** Empties the six metadef tables in one transaction; returns the rows deleted per table. */
export async function unloadMetadefs(ctx: RunContext): Promise<{ table: string; rows: number }[]> {
  return withLatestDatabase(ctx, 'metadefs unload', true, (driver) =>
    driver.transaction(async (tx) => {
      const counts: { table: string; rows: number }[] = [];
      for (const table of METADEF_TABLES) counts.push({ table, rows: await tx.run(`DELETE FROM ${table}`) });
      return counts;
    }));
}
