// `plan --output`: one script a DBA runs by hand with the database's own
// client (sqlite3 db < FILE, psql -v ON_ERROR_STOP=1 -f FILE, mariadb db < FILE).
//
// Its first step checks that the database is at exactly the starting state it
// was planned for, and stops before anything changes otherwise: a script run
// twice, or against another database, must not rebuild tables (SQLite's 045
// drops and rebuilds images). Accepted starting states:
//   from      the version table holds exactly the versions up to FROM, all complete;
//   adopt     no version table rows, and Glance's alembic_version names FROM:
//             the script records the versions up to FROM as `adopted`, as sync does;
//   empty     (planned from empty) no table at all but an empty version table.
// Already at the planned target ("done") and anything else refuse, each with
// its own message. After the check the script leaves exactly the bookkeeping
// sync leaves: version rows (MySQL: progress after every statement, so a
// failed script resumes with glance-db sync) and alembic_version.
//
// SQLite: `.bail on` stops the sqlite3 shell at the first error, and the
// whole script is one transaction, so nothing commits after a failure.
// PostgreSQL: one transaction, the check is a DO block raising an exception.
// MySQL: DDL commits implicitly; the check runs first and only reads
// (information_schema, prepared statements, no stored program), then a
// temporary table's CHECK constraints stop the client (mariadb/mysql stop at
// the first error unless --force).
import { statementHash } from '../checksum.js';
import type { VersionRow } from '../drivers/driver.js';
import { createVersionTableSql, rowValues, VERSION_COLUMNS } from '../drivers/version-table.js';
import { ALIASES, CONTRACT_CHAIN } from '../glance/revisions.js';
import type { RunContext } from './context.js';
import { readMigrationFile, statementsOf } from './files.js';
import type { Plan } from './plan.js';

function literal(v: string | number | null): string {
  if (v === null) return 'NULL';
  return typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

/** Stands for applied_at in a row: the server's clock when the DBA runs the script (not when it was made). */
const APPLIED_AT_NOW = '\u0000applied-at-now';

/** The server's current time as ISO 8601 UTC with milliseconds, the form glance-db writes (2026-11-25T10:15:00.123Z). */
export function serverNowSql(dialect: Plan['dialect']): string {
  if (dialect === 'sqlite') return "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
  if (dialect === 'postgresql') return `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  return "CONCAT(SUBSTRING(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%f'), 1, 23), 'Z')";
}

/** The Alembic revisions glance-manage leaves at a version (the contract head, and its old aliases). */
export function revisionsAt(version: number): string[] {
  const revs = CONTRACT_CHAIN.filter(([, v]) => v === version).map(([r]) => r);
  return [...revs, ...Object.entries(ALIASES).filter(([, r]) => revs.includes(r)).map(([a]) => a)];
}

const list = (xs: (string | number)[]) => xs.map(literal).join(', ');

export const SCRIPT_ALREADY_RAN = 'glance-db: this script already ran on this database; nothing was changed';
export const SCRIPT_WRONG_START = 'glance-db: the database is not at the state this script starts from; nothing was changed';

export function planScript(ctx: RunContext, p: Plan, generatedAt: string): string {
  const table = ctx.manifest.versionTable;
  const all = ctx.manifest.migrations;
  const fromVs = p.from === null ? [] : all.filter((m) => m.version <= p.from!).map((m) => m.version);
  const toVs = all.filter((m) => m.version <= p.to).map((m) => m.version);
  const revs = p.from === null ? [] : revisionsAt(p.from);
  const mv = p.migrateVersion ? 1 : 0;
  // n: rows; nf/nt: complete rows of the versions up to FROM / TO; na/nr: alembic_version rows / rows naming FROM;
  // hm: migrate_version exists; o: tables other than the version table.
  const cases = [
    p.from !== null ? `WHEN n = ${fromVs.length} AND nf = ${fromVs.length} AND hm = ${mv} THEN 'from'` : null,
    p.versions.length > 0 ? `WHEN n = ${toVs.length} AND nt = ${toVs.length} THEN 'done'` : null,
    p.from !== null && revs.length > 0 ? `WHEN n = 0 AND na = 1 AND nr = 1 AND hm = ${mv} THEN 'adopt'` : null,
    p.from === null ? `WHEN n = 0 AND o = 0 THEN 'empty'` : null,
  ].filter(Boolean);
  const stateCase = `CASE ${cases.join(' ')} ELSE 'other' END`;
  const countIn = (vs: number[]) => (vs.length ? `count(CASE WHEN status = 'complete' AND version IN (${list(vs)}) THEN 1 END)` : '0');
  const revIn = revs.length ? `count(CASE WHEN version_num IN (${list(revs)}) THEN 1 END)` : '0';
  const others = (tableList: string) => `${tableList} NOT IN (${list([table, `${table}_lock`])})`;
  const start = p.from === null ? 'an empty database' : `version ${p.from} (recorded by glance-db, or by glance-manage in alembic_version: ${revs.join(' or ')})`;

  const adoptedRows: VersionRow[] = p.from === null ? [] : all.filter((m) => m.version <= p.from!).map((m) => {
    const loaded = readMigrationFile(ctx.manifest, m, p.dialect);
    return row(ctx, p, m.version, m.name, loaded.checksum, 'adopted', 0, statementsOf(loaded, p.dialect, m.version).length);
  });
  // The first release's columns only, so the script also runs on a version table made by that release (run_by stays empty: a script does not know who runs it).
  const columns = `INSERT INTO ${table} (${VERSION_COLUMNS.join(', ')})`;
  const values = (r: VersionRow) => rowValues(r).slice(0, VERSION_COLUMNS.length).map((x) => (x === APPLIED_AT_NOW ? serverNowSql(p.dialect) : literal(x))).join(', ');
  const insertIf = (r: VersionRow, cond: string) => `${columns} SELECT ${values(r)}${p.dialect === 'mysql' ? ' FROM DUAL' : ''} WHERE ${cond}`;
  const insertRow = (r: VersionRow) => `${columns} VALUES (${values(r)})`;

  const run = p.dialect === 'sqlite' ? 'sqlite3 glance.sqlite < this-file' : p.dialect === 'postgresql' ? 'psql -v ON_ERROR_STOP=1 -d glance -f this-file' : 'mariadb glance < this-file';
  const out = [
    `-- Generated by glance-db ${ctx.toolVersion} at ${generatedAt} for ${p.dialect}: from ${p.from ?? 'an empty database'} to version ${p.to}.`,
    `-- Run it with: ${run}. Each version records its row in ${table}, so glance-db sees it as applied.`,
    `-- It first checks that the database is at ${start}, and stops before changing anything otherwise; run a second time it refuses and changes nothing.`,
  ];
  if (p.dialect === 'sqlite') {
    out.push(
      '.bail on',
      'BEGIN IMMEDIATE;',
      `${createVersionTableSql(table, 'sqlite')};`,
      ...(p.from !== null ? ['CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));'] : []),
      `CREATE TEMP TABLE glance_db_script_guard (state TEXT NOT NULL, CONSTRAINT "${SCRIPT_ALREADY_RAN}" CHECK (state <> 'done'), CONSTRAINT "${SCRIPT_WRONG_START} (${start.replace(/"/g, '')})" CHECK (state <> 'other'));`,
      `INSERT INTO temp.glance_db_script_guard (state) SELECT ${stateCase} FROM (SELECT ` +
        `(SELECT count(*) FROM ${table}) AS n, (SELECT ${countIn(fromVs)} FROM ${table}) AS nf, (SELECT ${countIn(toVs)} FROM ${table}) AS nt, ` +
        (p.from !== null ? `(SELECT count(*) FROM alembic_version) AS na, (SELECT ${revIn} FROM alembic_version) AS nr, ` : '0 AS na, 0 AS nr, ') +
        `(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'migrate_version') AS hm, ` +
        `(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND ${others('name')}) AS o) AS s;`,
      ...adoptedRows.map((r) => `${insertIf(r, "(SELECT state FROM temp.glance_db_script_guard) = 'adopt'")};`),
    );
  } else if (p.dialect === 'postgresql') {
    out.push(
      'BEGIN;',
      `${createVersionTableSql(table, 'postgresql')};`,
      'DO $glance_db$',
      'DECLARE n int; nf int; nt int; na int := 0; nr int := 0; hm int; o int; st text;',
      'BEGIN',
      `  SELECT count(*), ${countIn(fromVs)}, ${countIn(toVs)} INTO n, nf, nt FROM ${table};`,
      `  IF to_regclass('alembic_version') IS NOT NULL THEN EXECUTE 'SELECT count(*), count(CASE WHEN version_num = ANY ($1) THEN 1 END) FROM alembic_version' INTO na, nr USING ARRAY[${list(revs.length ? revs : [''])}]::text[]; END IF;`,
      `  hm := CASE WHEN to_regclass('migrate_version') IS NULL THEN 0 ELSE 1 END;`,
      `  SELECT count(*) INTO o FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND ${others('table_name')};`,
      `  st := ${stateCase};`,
      `  IF st = 'done' THEN RAISE EXCEPTION '${SCRIPT_ALREADY_RAN} (it records versions up to ${p.to})'; END IF;`,
      `  IF st = 'other' THEN RAISE EXCEPTION '${SCRIPT_WRONG_START} (${start}); found % row(s) in ${table}', n; END IF;`,
      ...adoptedRows.map((r) => `  IF st = 'adopt' THEN ${insertRow(r)}; END IF;`),
      'END $glance_db$;',
    );
  } else {
    const v = (name: string) => `@glance_db_${name}`;
    const exists = (name: string) => `(SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${literal(name)})`;
    const counts = `SELECT COUNT(*), ${countIn(fromVs)}, ${countIn(toVs)} INTO ${v('n')}, ${v('nf')}, ${v('nt')} FROM ${table}`;
    const alembic = `SELECT COUNT(*), ${revIn} INTO ${v('na')}, ${v('nr')} FROM alembic_version`;
    const prepared = (name: string, existsVar: string, query: string, none: string) => [
      `SET ${v('q')} := IF(${existsVar} = 1, ${literal(query)}, ${literal(none)});`,
      `PREPARE glance_db_${name} FROM ${v('q')};`,
      `EXECUTE glance_db_${name};`,
      `DEALLOCATE PREPARE glance_db_${name};`,
    ];
    out.push(
      `SET ${v('t')} := ${exists(table)}, ${v('a')} := ${exists('alembic_version')}, ${v('hm')} := ${exists('migrate_version')};`,
      `SET ${v('o')} := (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND ${others('TABLE_NAME')});`,
      ...prepared('counts', v('t'), counts, `SELECT 0, 0, 0 INTO ${v('n')}, ${v('nf')}, ${v('nt')}`),
      ...prepared('alembic', v('a'), alembic, `SELECT 0, 0 INTO ${v('na')}, ${v('nr')}`),
      `SET ${v('state')} := (SELECT ${stateCase} FROM (SELECT ${['n', 'nf', 'nt', 'na', 'nr', 'hm', 'o'].map((x) => `${v(x)} AS ${x}`).join(', ')}) AS s);`,
      // MySQL limits constraint names to 64 characters.
      `CREATE TEMPORARY TABLE glance_db_script_guard (state VARCHAR(16) NOT NULL, CONSTRAINT \`glance-db: this script already ran here; nothing changed\` CHECK (state <> 'done'), CONSTRAINT \`glance-db: database not at the state this script starts from\` CHECK (state <> 'other'));`,
      `INSERT INTO glance_db_script_guard (state) VALUES (${v('state')});`,
      `${createVersionTableSql(table, 'mysql')};`,
      ...adoptedRows.map((r) => `${insertIf(r, `${v('state')} = 'adopt'`)};`),
    );
  }
  for (const pv of p.versions) {
    const total = pv.statements.length;
    const done = row(ctx, p, pv.version, pv.name, pv.checksum, 'applied', total, total);
    out.push('', `-- Version ${pv.version} ${pv.name}: ${pv.file} ${pv.checksum}`);
    if (p.dialect !== 'mysql') {
      out.push(...pv.statements.map((s) => `${s};`), ...pv.bookkeeping.map((s) => `${s};`), `${insertRow(done)};`);
      continue;
    }
    // As sync does on MySQL: a failed row first, progress after every statement, complete at the end.
    const hashes: string[] = [];
    out.push(`${insertRow({ ...done, status: 'failed', statementsApplied: 0, statementHashes: [], error: 'in progress (interrupted if this stays)' })};`);
    pv.statements.forEach((s, i) => {
      hashes.push(statementHash(s));
      out.push(`${s};`, `UPDATE ${table} SET statements_applied = ${i + 1}, statements_total = ${total}, statement_hashes = ${literal(JSON.stringify(hashes))}, error = NULL WHERE version = ${pv.version};`);
    });
    out.push(...pv.bookkeeping.map((s) => `${s};`), `UPDATE ${table} SET status = 'complete', error = NULL WHERE version = ${pv.version};`);
  }
  out.push('');
  if (p.dialect === 'sqlite') out.push('DROP TABLE temp.glance_db_script_guard;', 'COMMIT;');
  else if (p.dialect === 'postgresql') out.push('COMMIT;');
  else out.push('DROP TEMPORARY TABLE glance_db_script_guard;');
  return `${out.join('\n')}\n`;
}

/** A row as sync would record it; applied_at: when the DBA runs the script, by the server's clock. */
function row(ctx: RunContext, p: Plan, version: number, name: string, checksum: string, kind: VersionRow['kind'], applied: number, total: number): VersionRow {
  return { version, name, dialect: p.dialect, checksum, kind, status: 'complete', statementsApplied: applied, statementsTotal: total, statementHashes: null, error: null, appliedAt: APPLIED_AT_NOW, executionMs: 0, toolVersion: ctx.toolVersion };
}
