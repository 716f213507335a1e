// Loads glance-db.yaml: YAML syntax, the JSON Schema, then the checks a schema
// cannot express (order, files on disk, nothing unreferenced). Every problem
// is a ConfigError naming the file and line.
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { readBounded, TooLargeError } from '../../platform/read-bounded.js';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../../platform/errors.js';
import type { Dialect } from '../driver/dialect.js';
import { PHASES, type Manifest, type Migration } from './types.js';
import { displayPath, lineOf, nodeAt, schemaErrors } from './validate.js';
import validator from './schema-validator.js';
import shipped from './shipped-manifest.js';

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
  // The YAML's nodes and lines, parsed once when needed: always for a manifest of its own, only for an error's
  // line when the text is the shipped one, whose parse the build made (scripts/build-validator.mjs).
  let parsed: { doc: Document; lc: LineCounter } | undefined;
  const located = () => (parsed ??= parseManifestYaml(source, label));
  let data: unknown;
  if (shipped !== null && source === shipped.text) data = JSON.parse(shipped.json);
  else {
    const { doc } = located();
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias bomb ("billion laughs") or a similar structural problem.
      throw new ConfigError(`${label}: invalid YAML: ${(err as Error).message}`);
    }
  }
  if (data === null || data === undefined) {
    throw new ConfigError(`${label}: the manifest is empty; see docs/reference/manifest.md for its format.`);
  }
  const count = (data as { migrations?: unknown })?.migrations;
  if (Array.isArray(count) && count.length > MAX_VERSIONS) {
    throw new ConfigError(
      `${label}: migrations has ${count.length} entries, more than the ${MAX_VERSIONS} glance-db accepts; nothing else was checked.`,
    );
  }
  const errors = validator(data) ? [] : schemaErrors(data, located().doc, located().lc, label);
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
  checkSemantics(manifest, located, label);
  return manifest;
}

function parseManifestYaml(source: string, label: string): { doc: Document; lc: LineCounter } {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line ?? 1;
    throw new ConfigError(`${label}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  return { doc, lc };
}

/**
 * Bounds on the work a manifest can cause: the shipped glance-db.yaml is a few
 * KB with ten versions; parsing and validating 100,000 versions took 42 s and
 * 2 GB. These are far beyond any real manifest.
 */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_VERSIONS = 10_000;
/** At most this many unreferenced files are named in a message. */
const MAX_NAMED_FILES = 20;

function readManifestFile(path: string): string {
  try {
    const size = statSync(path).size;
    const tooLarge = () =>
      new ConfigError(
        `${basename(path)} is ${size > MAX_MANIFEST_BYTES ? `${size} bytes, ` : ''}more than the ${MAX_MANIFEST_BYTES} bytes (1 MiB) a manifest may have; it cannot be a glance-db manifest.`,
      );
    if (size > MAX_MANIFEST_BYTES) throw tooLarge();
    let buf: Buffer;
    try {
      buf = readBounded(path, MAX_MANIFEST_BYTES);
    } catch (err) {
      throw err instanceof TooLargeError ? tooLarge() : err;
    }
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

function checkSemantics(m: Manifest, located: () => { doc: Document; lc: LineCounter }, label: string): void {
  const at = (segs: (string | number)[], msg: string) =>
    new ConfigError(`${label}:${lineOf(nodeAt(located().doc, segs), located().lc)}: ${displayPath(segs)}: ${msg}`);
  m.migrations.forEach((mig, i) => {
    if (i > 0 && mig.version <= m.migrations[i - 1].version) {
      const prev = m.migrations[i - 1].version;
      throw at(
        ['migrations', i, 'version'],
        mig.version === prev
          ? `version ${mig.version} appears twice`
          : `version ${mig.version} comes after ${prev}: versions must increase`,
      );
    }
    for (const d of m.dialects) {
      if (!mig.files[d]) throw at(['migrations', i, 'files'], `no file for dialect "${d}" (declared in dialects)`);
    }
    for (const d of Object.keys(mig.files) as Dialect[]) {
      if (!m.dialects.includes(d)) throw at(['migrations', i, 'files', d], `dialect "${d}" is not listed in dialects`);
      checkFile(m, mig.files[d]!, () => at(['migrations', i, 'files', d], ''));
    }
    checkPhases(m, mig, (segs, msg) => at(['migrations', i, ...segs], msg));
  });
  checkAllReferenced(m, label);
}

/**
 * rolling: phased goes with phases (and phases with it); each phase has a
 * file for every dialect, inside sql/, named NNN_name.<phase>.sql after its
 * version, so that a phase file is never mistaken for another version's.
 */
function checkPhases(m: Manifest, mig: Migration, at: (segs: (string | number)[], msg: string) => ConfigError): void {
  if (mig.rolling === 'phased' && !mig.phases)
    throw at(['rolling'], 'rolling: phased needs phases (a file per dialect for expand, migrate and/or contract)');
  if (!mig.phases) return;
  if (mig.rolling !== 'phased')
    throw at(['phases'], `phases is only for rolling: phased (this version says rolling: ${mig.rolling ?? '(none)'})`);
  for (const phase of PHASES) {
    const files = mig.phases[phase];
    if (!files) continue;
    for (const d of m.dialects) {
      if (!files[d]) throw at(['phases', phase], `no ${phase} file for dialect "${d}" (declared in dialects)`);
    }
    for (const d of Object.keys(files) as Dialect[]) {
      if (!m.dialects.includes(d)) throw at(['phases', phase, d], `dialect "${d}" is not listed in dialects`);
      const name = /^(\d+)_[a-z0-9_]+\.([a-z]+)\.sql$/.exec(basename(files[d]!));
      if (!name || Number(name[1]) !== mig.version || name[2] !== phase) {
        throw at(
          ['phases', phase, d],
          `"${files[d]}" must be named ${String(mig.version).padStart(3, '0')}_NAME.${phase}.sql (its version, then the phase)`,
        );
      }
      checkFile(m, files[d]!, () => at(['phases', phase, d], ''));
    }
  }
}

/** Every file a version names: the whole file per dialect, then its phase files. */
export function filesOf(mig: Migration): string[] {
  return [...Object.values(mig.files), ...PHASES.flatMap((p) => Object.values(mig.phases?.[p] ?? {}))].filter(
    (f): f is string => !!f,
  );
}

function checkFile(m: Manifest, file: string, where: () => ConfigError): void {
  const r = resolveSqlFile(m.dir, file);
  if ('problem' in r) throw new ConfigError(`${where().message}"${file}" ${r.problem}`);
}

/**
 * The real path of a migration file, required to lie under the real sql/
 * folder: every component is resolved, not just the last, so neither
 * sql/evil -> /somewhere (a linked folder) nor a linked file can lead out.
 * A link that stays inside sql/ is fine. Used when the manifest is loaded and
 * again when the file is read.
 */
export function resolveSqlFile(manifestDir: string, file: string): { real: string } | { problem: string } {
  const sqlRoot = join(manifestDir, 'sql');
  const full = resolve(manifestDir, file);
  if (!full.startsWith(sqlRoot + sep)) return { problem: 'lies outside sql/' };
  let st;
  try {
    st = lstatSync(full);
  } catch {
    return { problem: 'does not exist' };
  }
  const real = realpathSafe(full);
  const realRoot = realpathSafe(sqlRoot);
  if (!real || !realRoot) return { problem: 'is a symbolic link that leads nowhere' };
  if (!real.startsWith(realRoot + sep)) {
    return {
      problem: st.isSymbolicLink()
        ? 'is a symbolic link that leads outside sql/'
        : 'lies in a folder that is a symbolic link leading outside sql/',
    };
  }
  let target;
  try {
    target = statSync(real);
  } catch {
    return { problem: 'does not exist' };
  }
  if (!target.isFile()) return { problem: 'is not a regular file' };
  return { real };
}

function realpathSafe(p: string): string | null {
  try {
    // The C library's realpath(3): one call, where Node's JavaScript realpathSync lstat()s every component
    // (the manifest's 50-odd files made that a fifth of loading it).
    return realpathSync.native(p);
  } catch {
    return null;
  }
}

/** Every .sql file under sql/ must be named by the manifest: a forgotten file is a forgotten migration. */
function checkAllReferenced(m: Manifest, label: string): void {
  const sqlRoot = join(m.dir, 'sql');
  // Compared by real path: a file may be named through a folder linked inside sql/.
  const real = (p: string) => realpathSafe(p) ?? p;
  const referenced = new Set(m.migrations.flatMap((mig) => filesOf(mig).map((f) => real(resolve(m.dir, f)))));
  const orphans = listSqlFiles(sqlRoot).filter((f) => !referenced.has(real(f)));
  if (orphans.length > 0) {
    const shown = orphans.slice(0, MAX_NAMED_FILES).map((f) => relative(m.dir, f));
    const names =
      orphans.length > MAX_NAMED_FILES
        ? `${shown.join(', ')} and ${orphans.length - MAX_NAMED_FILES} more`
        : shown.join(', ');
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
