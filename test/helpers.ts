// Shared test plumbing: temporary projects, the built CLI spawned as a user
// runs it, and sql.js databases loaded from files or reference dumps.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
// The dialect registry, loaded as the CLI loads it: it hands core each dialect's description (describeDialect,
// src/core/driver/dialect.ts), which tests that call the splitter or the engine directly need.
import '../src/dialects/index.js';
// Glance's names for the messages of the engine and the drivers (src/core/driver/application.ts), provided as the
// CLI provides them (its rules import them), for tests that use a driver or the engine directly.
import '../src/glance/words.js';
import { GLANCE_RELEASES } from '../src/glance/releases.js';
import { EXPAND_CHAIN, REVISION_FOR_VERSION } from '../src/glance/revisions.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'run.js');
/** Glance's own schema at each version, per dialect (test/fixtures/reference/README.md). */
export const REFERENCE_DIR = join(ROOT, 'test', 'fixtures', 'reference');
/** The versions the shipped manifest lists, in order: tests never spell them out. */
export const VERSIONS: number[] = [
  ...readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8').matchAll(/^  - version: (\d+)$/gm),
].map((m) => Number(m[1]));
export const FIRST = VERSIONS[0];
export const LATEST = VERSIONS[VERSIONS.length - 1];
/** The version after the newest: the one a test adds with extraVersion (a site's own version, or Glance's next). */
export const NEXT = LATEST + 1;
/** The version before the newest: a database one version behind. */
export const PREVIOUS = VERSIONS[VERSIONS.length - 2];
/** Each version's name in the shipped manifest ("add_cache_tables"). */
export const VERSION_NAMES: Record<number, string> = Object.fromEntries(
  [...readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8').matchAll(/^  - version: (\d+)\n    name: (\w+)$/gm)].map(
    (m) => [Number(m[1]), m[2]],
  ),
);
/** "51 add_cache_tables": the newest version as plan and sync name it. */
export const LATEST_LABEL = `${LATEST} ${VERSION_NAMES[LATEST]}`;
/** The Alembic contract revision the newest version equals ("2024_1_contract01"), which sync writes to alembic_version. */
export const LATEST_REVISION = REVISION_FOR_VERSION[LATEST];
/** The newest Alembic expand revision ("2024_1_expand01"): the expand head of a rolling upgrade to the newest version. */
export const LATEST_EXPAND_REVISION = EXPAND_CHAIN[EXPAND_CHAIN.length - 1][0];
/** The newest Glance release glance-db knows (its db sync reaches the newest version). */
export const NEWEST_RELEASE = GLANCE_RELEASES[GLANCE_RELEASES.length - 1];
/** A Glance version after every release glance-db knows: a Glance newer than glance-db. */
export const NEWER_GLANCE = `${NEWEST_RELEASE.glanceMajor + 1}.0.0`;
/** sql/<dialect>/NNN_name.sql: a version's file as the checklist names it (docs/contributing/adding-a-version.md). */
export const versionFile = (dialect: string, version: number) =>
  `sql/${dialect}/${String(version).padStart(3, '0')}_${VERSION_NAMES[version]}.sql`;
/** "42-44": the range label glance-db prints. */
export const span = (from: number, to: number) => (from === to ? `${from}` : `${from}-${to}`);
/** The versions from..to inclusive. */
export const range = (from: number, to: number) => VERSIONS.filter((v) => v >= from && v <= to);

export function referencePath(version: number, dialect: 'sqlite' | 'postgresql' | 'mysql'): string {
  return join(REFERENCE_DIR, `v${version}`, `${dialect}.sql`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const cleanEnv = () => {
  const env = { ...process.env };
  delete env.GLANCE_DB_URL;
  delete env.GLANCE_DB_DEBUG;
  // oslo.config's environment source (src/cli/database-source.ts): only a test that sets it.
  for (const name of [
    'OS_DATABASE__CONNECTION',
    'OS_DEFAULT__SQL_CONNECTION',
    'OS_DATABASE__SQL_CONNECTION',
    'OS_SQL__CONNECTION',
  ])
    delete env[name];
  // Glance's default config folders (~/.glance, ~, /etc/glance, /etc): none, so no test depends on the machine's.
  env.GLANCE_DB_GLANCE_CONFIG_DIRS = '';
  // Nor on a Glance installed on the machine (its release is read from Python package metadata).
  env.GLANCE_DB_GLANCE_SITE_PACKAGES = '';
  return env;
};

let outputValidator: ValidateFunction | null = null;

/**
 * Every --json output of every test is checked against the documented shape,
 * schema/output.schema.json: exactly one JSON object on stdout, valid.
 */
export function assertJsonOutput(args: string[], stdout: string): void {
  if (!args.includes('--json') || args.includes('--help') || args[0] === 'help' || args[0] === 'completion') return;
  if (!outputValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    outputValidator = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schema', 'output.schema.json'), 'utf8')));
  }
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    throw new Error(`glance-db ${args.join(' ')} --json: stdout is not one JSON object: ${stdout.slice(0, 300)}`);
  }
  if (!outputValidator(value)) {
    throw new Error(
      `glance-db ${args.join(' ')}: --json output does not match schema/output.schema.json: ${JSON.stringify(outputValidator.errors)}\n${stdout.slice(0, 2000)}`,
    );
  }
}

/** Runs the built CLI synchronously, as a user would. */
export function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): CliResult {
  const res = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...cleanEnv(), ...opts.env },
    encoding: 'utf8',
    timeout: 120_000,
    input: opts.input,
  });
  if (res.status !== null) assertJsonOutput(args, res.stdout);
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

type InProcessCli = typeof import('../src/cli/run-cli.js').runCli;
let inProcessCli: Promise<InProcessCli> | null = null;

/**
 * Runs the built CLI inside this process (src/cli/run-cli.ts, from the same bundle
 * bin/run.js loads): the same code, stdout, stderr as cli(), without starting a
 * process. Runs are taken one at a time. For messages, exit codes and JSON;
 * signals, concurrency, crashes and file locks stay with cli()/cliAsync().
 */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<CliResult> {
  inProcessCli ??= import(pathToFileURL(join(ROOT, 'dist', 'bundle', 'run-cli.js')).href).then(
    (m: { runCli: InProcessCli }) => m.runCli,
  );
  const run = await inProcessCli;
  const res = await run(args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...cleanEnv(), ...opts.env },
    input: opts.input,
    invokedAs: BIN,
  });
  assertJsonOutput(args, res.stdout);
  return res;
}

/** Runs the built CLI without blocking, for concurrency tests. */
export function cliAsync(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...cleanEnv(), ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      if (code !== null) assertJsonOutput(args, stdout);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** A throwaway copy of the project's manifest and SQL; overrides replace or add files (null deletes). */
export function makeProject(overrides: Record<string, string | null> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-test-'));
  cpSync(join(ROOT, 'glance-db.yaml'), join(dir, 'glance-db.yaml'));
  cpSync(join(ROOT, 'sql'), join(dir, 'sql'), { recursive: true });
  for (const [rel, content] of Object.entries(overrides)) {
    const p = join(dir, rel);
    if (content === null) rmSync(p, { force: true, recursive: true });
    else {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
  }
  return dir;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

let sqlJs: Promise<SqlJsStatic> | null = null;

export async function openSqlite(path?: string): Promise<Database> {
  sqlJs ??= initSqlJs();
  const SQL = await sqlJs;
  return path && existsSync(path) ? new SQL.Database(readFileSync(path)) : new SQL.Database();
}

/** A Query function over a sql.js database, for the introspection modules. */
export function sqliteQuery(db: Database) {
  return async (sql: string, params: unknown[] = []) => {
    const stmt = db.prepare(sql, params as never);
    const rows: Record<string, unknown>[] = [];
    while (stmt.step()) rows.push(stmt.getAsObject());
    stmt.free();
    return rows;
  };
}

export function referenceSql(version: number, dialect: 'sqlite' | 'postgresql' | 'mysql'): string {
  return readFileSync(referencePath(version, dialect), 'utf8');
}

/** Rows of a query on a SQLite file, as objects. */
export async function sqliteRows(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await openSqlite(path);
  try {
    return await sqliteQuery(db)(sql);
  } finally {
    db.close();
  }
}

/**
 * Project overrides that append one version to the shipped manifest, with
 * the same SQL for every dialect the manifest declares (the SQL is given per
 * dialect where it must differ).
 */
export function extraVersion(
  version: number,
  name: string,
  sql: string | Record<string, string>,
): Record<string, string> {
  const manifest = readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8');
  const dialects = /^dialects: \[(.*)\]$/m
    .exec(manifest)![1]
    .split(',')
    .map((d) => d.trim());
  const file = (d: string) => `sql/${d}/${version}_${name}.sql`;
  const entry = `\n  - version: ${version}\n    name: ${name}\n    description: A version added by a test.\n    files:\n${dialects.map((d) => `      ${d}: ${file(d)}\n`).join('')}`;
  const out: Record<string, string> = { 'glance-db.yaml': manifest + entry };
  for (const d of dialects) out[file(d)] = typeof sql === 'string' ? sql : sql[d];
  return out;
}

/** A stand-in dump tool on PATH that records its argv and password variable, and writes a dump to its standard output (glance-db's backup file). */
export function fakeDumpTool(
  name: string,
  passwordVar: string,
): { bin: string; calls: () => string; cleanup: () => void } {
  const bin = mkdtempSync(join(tmpdir(), 'glance-db-fakebin-'));
  const script = `#!/bin/sh
echo "ARGS $*" > "${bin}/called"
echo "ENV $${passwordVar}" >> "${bin}/called"
echo dump
`;
  writeFileSync(join(bin, name), script);
  chmodSync(join(bin, name), 0o755);
  return {
    bin,
    calls: () => readFileSync(join(bin, 'called'), 'utf8'),
    cleanup: () => rmSync(bin, { recursive: true, force: true }),
  };
}

/**
 * A SQLite driver on g.sqlite in a new folder, whose version table an earlier
 * run wrote, holding the migration lock: the driver-level tests start here.
 */
export async function lockedSqliteDriver(prefix = 'glance-db-locked-') {
  const { SqliteDriver } = await import('../src/dialects/sqlite/driver.js');
  const { sqlite } = await import('../src/dialects/sqlite/description.js');
  const { parseDatabaseUrl } = await import('../src/dialects/index.js');
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'g.sqlite');
  const make = () =>
    new SqliteDriver(
      {
        target: parseDatabaseUrl(`sqlite:${file}`, dir),
        versionTable: 'glance_db_version',
        lockWaitMs: 1000,
        connectTimeoutMs: 1000,
        statementTimeoutMs: 0,
        lockTimeoutMs: 0,
      },
      sqlite,
    );
  const earlier = make();
  await earlier.open();
  await earlier.lock();
  await earlier.ensureVersionTable();
  await earlier.close();
  const driver = make();
  await driver.open();
  await driver.lock();
  return { dir, file, driver };
}

/** Version 1 for the engine's applyVersion (src/core/apply.ts): one CREATE TABLE. */
export function versionOne() {
  const row = {
    version: 1,
    name: 'x',
    dialect: 'sqlite' as const,
    checksum: 'sha256-lf:0',
    kind: 'applied' as const,
    status: 'complete' as const,
    statementsApplied: 1,
    statementsTotal: 1,
    statementHashes: null,
    error: null,
    appliedAt: new Date().toISOString(),
    executionMs: 0,
    toolVersion: '0',
  };
  return {
    version: 1,
    name: 'x',
    file: 'x.sql',
    statements: [{ index: 0, text: 'CREATE TABLE t (id INTEGER)', line: 1, column: 1, offset: 0 }],
    row,
    resumeFrom: 0,
    after: [],
  };
}
