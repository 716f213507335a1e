// Shared pieces of the benchmark: timing a command, the three dialects'
// databases and raw clients, and glance-manage. Comparisons are always
// interleaved (A B A B ...) and reported as medians.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'run.js');
export const GLANCE_MANAGE = '/usr/bin/glance-manage';
// Where the servers are: the same helper as the tests (GLANCE_DB_TEST_PG_URL, GLANCE_DB_TEST_MYSQL_URL).
const servers = await import(join(ROOT, 'dist', 'test', 'servers.js'));
// The shipped manifest, loaded and checked as glance-db loads it.
const manifest = (await import(join(ROOT, 'dist', 'src', 'core', 'manifest', 'load.js'))).loadManifest(
  join(ROOT, 'glance-db.yaml'),
);
const pgArgs = () => servers.clientArgs('postgresql');
const myArgs = () => servers.clientArgs('mysql');
/** glance-manage wants SQLAlchemy's driver names. */
const glanceManageUrl = (dialect, name) =>
  servers
    .serverUrl(dialect, name)
    .replace(/^postgresql:/, 'postgresql+psycopg2:')
    .replace(/^mysql:\/\/([^?]*)$/, 'mysql+pymysql://$1?charset=utf8');

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs a command to completion; returns wall-clock ms. Throws with its stderr if it fails. */
export function timed(cmd, args, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').slice(-800)}`,
    );
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

/** Peak RSS (KiB) and wall time of a command, through GNU time. */
export function timedRss(cmd, args, opts = {}) {
  const r = timed('/usr/bin/time', ['-f', 'GDB_MAXRSS=%M', cmd, ...args], opts);
  const kib = Number(/GDB_MAXRSS=(\d+)/.exec(r.stderr)?.[1]);
  return { ...r, rssKiB: kib };
}

export const sh = (cmd, args, opts = {}) => timed(cmd, args, opts).stdout;

/**
 * The whole file of each version for a dialect, in order, as the manifest
 * names it (what `sync` runs): sql/<dialect>/ also holds the rolling
 * upgrade's phase files (NNN_name.expand.sql ...), which are not part of it.
 */
export function versionFiles(dialect) {
  return manifest.migrations.map((m) => ({
    version: m.version,
    file: m.files[dialect],
    name: m.files[dialect].split('/').pop(),
  }));
}

/** The concatenated SQL of versions from..to for a dialect, as the raw client runs it. */
export function combinedSql(dialect, from, to, dir) {
  const files = versionFiles(dialect).filter((f) => f.version >= from && f.version <= to);
  const body = files.map((f) => readFileSync(join(ROOT, f.file), 'utf8')).join('\n');
  // One transaction, as glance-db runs each version (MySQL commits DDL anyway).
  const text =
    dialect === 'postgresql'
      ? body
      : dialect === 'mysql'
        ? `START TRANSACTION;\n${body}\nCOMMIT;\n`
        : `BEGIN;\n${body}\nCOMMIT;\n`;
  const path = join(dir, `raw-${dialect}-${from}-${to}.sql`);
  writeFileSync(path, text);
  return path;
}

/**
 * dbmate (the npm package's Go binary), the closest peer: plain SQL files and
 * a version table, nothing more. Its migrations are glance-db's own files,
 * each wrapped as `-- migrate:up` (dbmate runs each in a transaction, as
 * glance-db does), written once per dialect under the bench folder.
 */
const DBMATE_VERSION = '2.36.0';
const DBMATE_DIR = join(ROOT, 'bench', 'out', 'tools');
export const DBMATE = join(DBMATE_DIR, 'node_modules', '.bin', 'dbmate');

/**
 * dbmate is installed for the benchmark only, into bench/out/tools, not as a
 * devDependency: the registry serves its binary for this platform alone, and
 * a lock file naming the others' optional packages would break npm ci.
 */
export function ensureDbmate() {
  if (existsSync(DBMATE)) return true;
  mkdirSync(DBMATE_DIR, { recursive: true });
  const r = spawnSync(
    'npm',
    ['install', '--prefix', DBMATE_DIR, '--no-save', '--no-audit', '--no-fund', `dbmate@${DBMATE_VERSION}`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    process.stderr.write(
      `dbmate not installed, its columns stay empty: ${(r.stderr || '').trim().split('\n').pop()}\n`,
    );
  return existsSync(DBMATE);
}

export function dbmateMigrations(dialect, dir) {
  const out = join(dir, 'dbmate', dialect);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const f of versionFiles(dialect)) {
    writeFileSync(join(out, f.name), `-- migrate:up\n${readFileSync(join(ROOT, f.file), 'utf8')}\n-- migrate:down\n`);
  }
  return out;
}

/** dbmate's own bookkeeping for a database that is already at `version` (the populated case starts at 44). */
export function dbmateBaselineSql(dialect, upTo) {
  const table =
    dialect === 'postgresql'
      ? 'public.schema_migrations (version character varying(128) NOT NULL PRIMARY KEY)'
      : 'schema_migrations (version varchar(128) NOT NULL PRIMARY KEY)';
  const files = versionFiles(dialect).filter((f) => f.version <= upTo);
  return `CREATE TABLE IF NOT EXISTS ${table};\n${files.map((f) => `INSERT INTO schema_migrations (version) VALUES ('${f.name.slice(0, 3)}');`).join('\n')}\n`;
}

export function dbmate(args, db, dir) {
  if (!existsSync(DBMATE)) return null;
  return [
    DBMATE,
    ['--url', db.dbmateUrl, '--migrations-dir', join(dir, 'dbmate', db.dialect), '--no-dump-schema', ...args],
  ];
}

/**
 * The prefix of every database (and SQLite file) the bench makes, in place of
 * "gdb": GLANCE_DB_BENCH_DB_PREFIX (or run.mjs --db-prefix), so that two runs
 * on one server, or a run beside another helper's, never share a database.
 */
export function dbPrefix() {
  const p = process.env.GLANCE_DB_BENCH_DB_PREFIX || 'gdb';
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(p))
    throw new Error(
      `GLANCE_DB_BENCH_DB_PREFIX must be lower-case letters, digits and _ (a database name's start), not ${JSON.stringify(p)}`,
    );
  return p;
}

/** One database of a dialect: its URL for glance-db and glance-manage, its raw client, and how to reset it. Names start gdb_, which dbPrefix() replaces. */
export function database(dialect, baseName, dir) {
  const name = baseName.replace(/^gdb_/, `${dbPrefix()}_`);
  if (dialect === 'sqlite') {
    const file = join(dir, `${name}.sqlite`);
    return {
      dialect,
      name,
      url: `sqlite:${file}`,
      file,
      glanceUrl: `sqlite:///${file}`,
      dbmateUrl: `sqlite:${file}`,
      drop() {
        rmSync(file, { force: true });
        rmSync(`${file}.lock`, { force: true });
      },
      create() {
        this.drop();
      },
      raw: (sqlFile) => ['sqlite3', [file, `.read ${sqlFile}`]],
      query: (sql) => sh('sqlite3', [file, sql]).trim(),
      copyFrom(other) {
        this.drop();
        copyFileSync(other.file, file);
      },
      size: () => Number(sh('stat', ['-c', '%s', file]).trim()),
    };
  }
  if (dialect === 'postgresql') {
    const psql = (db, sql) =>
      sh('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', ...pgArgs(), '-d', db, '-c', sql], {
        env: servers.clientEnv('postgresql'),
      }).trim();
    return {
      dialect,
      name,
      url: servers.serverUrl('postgresql', name),
      glanceUrl: glanceManageUrl('postgresql', name),
      dbmateUrl: `${servers.serverUrl('postgresql', name).replace(/^postgresql:/, 'postgres:')}?sslmode=disable`,
      drop() {
        psql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
      create() {
        this.drop();
        psql('postgres', `CREATE DATABASE ${name}`);
      },
      raw: (sqlFile, oneTransaction = true) => [
        'psql',
        [
          '-X',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          ...(oneTransaction ? ['-1'] : []),
          '-f',
          sqlFile,
          ...pgArgs(),
          '-d',
          name,
        ],
      ],
      query: (sql) => psql(name, sql),
      copyFrom(other) {
        this.drop();
        psql('postgres', `CREATE DATABASE ${name} TEMPLATE ${other.name}`);
      },
      size: () => Number(psql(name, 'SELECT pg_database_size(current_database())')),
    };
  }
  const mariadb = (db, sql) =>
    sh('mariadb', ['-N', '-B', ...myArgs(), ...(db ? [db] : []), '-e', sql], {
      env: servers.clientEnv('mysql'),
    }).trim();
  return {
    dialect,
    name,
    url: servers.serverUrl('mysql', name),
    glanceUrl: glanceManageUrl('mysql', name),
    dbmateUrl: servers.serverUrl('mysql', name),
    drop() {
      mariadb(null, `DROP DATABASE IF EXISTS ${name}`);
    },
    create() {
      this.drop();
      mariadb(null, `CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
    },
    raw: (sqlFile) => ['mariadb', [...myArgs(), name, '-e', `source ${sqlFile}`]],
    query: (sql) => mariadb(name, sql),
    copyFrom: null,
    size: () =>
      Number(
        mariadb(
          name,
          'SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = DATABASE()',
        ),
      ),
  };
}

export function glanceDb(args, db) {
  return [process.execPath, [BIN, ...args, '--url', db.url]];
}

/**
 * The round trips one glance-db command makes to its server, as the client
 * counts them (GLANCE_DB_ROUND_TRIPS, src/platform/round-trips.ts): { count, statements }.
 */
export function roundTrips(args, db, dir) {
  const file = join(dir, `round-trips-${process.pid}.jsonl`);
  rmSync(file, { force: true });
  const [cmd, a] = glanceDb(args, db);
  timed(cmd, a, { env: { ...process.env, GLANCE_DB_ROUND_TRIPS: file } });
  const line = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').pop());
  rmSync(file, { force: true });
  return { count: line.roundTrips, statements: line.statements };
}

/**
 * The single executable (scripts/sea.mjs, as `npm run package` builds it),
 * built into dir/sea once per run; null (its columns stay empty) when this
 * Node cannot build one.
 */
export function ensureExecutable(dir) {
  const out = join(dir, 'sea');
  const exe = join(out, `glance-db-${process.platform}-${process.arch}`);
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'sea.mjs'), '--out', out], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(exe)) {
    process.stderr.write(
      `single executable not built, its columns stay empty: ${(r.stderr || '').trim().split('\n').pop()}\n`,
    );
    return null;
  }
  // Its first run unpacks the SQL and schemas; every timed run is a later one.
  spawnSync(exe, ['--version']);
  return exe;
}

/** The single executable with the same arguments as glanceDb(). */
export function glanceDbExe(exe, args, db) {
  return [exe, [...args, '--url', db.url]];
}

/** glance-manage with a config file naming the database, or null when Debian's glance-common is not installed. */
export function glanceManage(args, db, dir) {
  if (!existsSync(GLANCE_MANAGE)) return null;
  const conf = join(dir, `glance-${db.name}.conf`);
  writeFileSync(
    conf,
    `[DEFAULT]\nlog_file = ${join(dir, 'glance-manage.log')}\n[database]\nconnection = ${db.glanceUrl}\n`,
  );
  return [GLANCE_MANAGE, ['--config-file', conf, ...args]];
}

export function workDir() {
  const dir = process.env.GLANCE_DB_BENCH_DIR || join(ROOT, 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function versions() {
  const v = (cmd, args, re = /(\d+\.\d+(\.\d+)?)/) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 ? (re.exec(r.stdout + r.stderr)?.[1] ?? '?') : 'not installed';
  };
  return {
    node: process.version,
    sqlite3: v('sqlite3', ['--version']),
    postgresql: v('psql', ['-X', '-t', '-A', ...pgArgs(), '-d', 'postgres', '-c', 'SHOW server_version']),
    mariadb: v('mariadb', ['-N', ...myArgs(), '-e', 'SELECT VERSION()'], /(\d+\.\d+\.\d+)/),
    glanceManage: v('dpkg-query', ['-W', '-f', '${Version}', 'python3-glance'], /(\S+)/),
    glanceDb: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    dbmate: existsSync(DBMATE) ? v(DBMATE, ['--version']) : 'not installed',
  };
}
