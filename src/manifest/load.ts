// Loads glance-db.yaml: YAML syntax, the JSON Schema, then the checks a schema
// cannot express (order, files on disk, nothing unreferenced). Every problem
// is a ConfigError naming the file and line.
import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../errors.js';
import type { Dialect } from '../url.js';
import type { Manifest, Migration } from './types.js';
import { displayPath, lineOf, nodeAt, schemaErrors } from './validate.js';

export const DEFAULT_VERSION_TABLE = 'glance_db_version';

interface RawManifest {
  database: { url: string; versionTable?: string };
  dialects: Dialect[];
  migrations: Migration[];
}

export function loadManifest(configPath: string): Manifest {
  const path = resolve(configPath);
  const label = basename(path);
  const source = readManifestFile(path);
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? 1;
    throw new ConfigError(`${label}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An alias bomb ("billion laughs") or a similar structural problem.
    throw new ConfigError(`${label}: invalid YAML: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) {
    throw new ConfigError(`${label}: the manifest is empty; see the README for its format.`);
  }
  const errors = schemaErrors(data, doc, lc, label);
  if (errors.length > 0) throw new ConfigError(errors.join('\n'), { fields: { errors } });
  const raw = data as RawManifest;
  const manifest: Manifest = {
    path,
    dir: dirname(path),
    databaseUrl: raw.database.url,
    versionTable: raw.database.versionTable ?? DEFAULT_VERSION_TABLE,
    dialects: raw.dialects,
    migrations: raw.migrations,
  };
  checkSemantics(manifest, doc, lc, label);
  return manifest;
}

function readManifestFile(path: string): string {
  try {
    const buf = readFileSync(path);
    if (buf.includes(0)) throw new ConfigError(`${basename(path)}: this is a binary file, not a YAML manifest.`);
    return buf.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
    throw new ConfigError(`The manifest ${path} ${why}.`, {
      hint: 'Run glance-db from the folder that holds glance-db.yaml, or pass --config PATH.',
    });
  }
}

function checkSemantics(m: Manifest, doc: Document, lc: LineCounter, label: string): void {
  const at = (segs: (string | number)[], msg: string) =>
    new ConfigError(`${label}:${lineOf(nodeAt(doc, segs), lc)}: ${displayPath(segs)}: ${msg}`);
  m.migrations.forEach((mig, i) => {
    if (i > 0 && mig.version <= m.migrations[i - 1].version) {
      const prev = m.migrations[i - 1].version;
      throw at(['migrations', i, 'version'], mig.version === prev ? `version ${mig.version} appears twice` : `version ${mig.version} comes after ${prev}: versions must increase`);
    }
    for (const d of m.dialects) {
      if (!mig.files[d]) throw at(['migrations', i, 'files'], `no file for dialect "${d}" (declared in dialects)`);
    }
    for (const d of Object.keys(mig.files) as Dialect[]) {
      if (!m.dialects.includes(d)) throw at(['migrations', i, 'files', d], `dialect "${d}" is not listed in dialects`);
      checkFile(m, mig.files[d]!, () => at(['migrations', i, 'files', d], ''));
    }
  });
  checkAllReferenced(m, label);
}

function checkFile(m: Manifest, file: string, where: () => ConfigError): void {
  const sqlRoot = join(m.dir, 'sql');
  const full = resolve(m.dir, file);
  const fail = (why: string) => new ConfigError(`${where().message}${why}`);
  if (!full.startsWith(sqlRoot + sep)) throw fail(`"${file}" lies outside sql/`);
  let st;
  try {
    st = lstatSync(full);
  } catch {
    throw fail(`"${file}" does not exist`);
  }
  if (st.isSymbolicLink()) {
    const real = realpathSafe(full);
    if (!real || !real.startsWith(realpathSync(sqlRoot) + sep)) throw fail(`"${file}" is a symbolic link that leads outside sql/`);
  } else if (!st.isFile()) throw fail(`"${file}" is not a regular file`);
}

function realpathSafe(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** Every .sql file under sql/ must be named by the manifest: a forgotten file is a forgotten migration. */
function checkAllReferenced(m: Manifest, label: string): void {
  const sqlRoot = join(m.dir, 'sql');
  const referenced = new Set(m.migrations.flatMap((mig) => Object.values(mig.files).map((f) => resolve(m.dir, f!))));
  const orphans = listSqlFiles(sqlRoot).filter((f) => !referenced.has(f));
  if (orphans.length > 0) {
    const names = orphans.map((f) => relative(m.dir, f)).join(', ');
    throw new ConfigError(`${label}: ${names} ${orphans.length === 1 ? 'is' : 'are'} not referenced by any version.`, {
      hint: 'Add the file to a version in the manifest, or delete it.',
    });
  }
}

function listSqlFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return listSqlFiles(p);
    return e.name.endsWith('.sql') ? [p] : [];
  });
}
