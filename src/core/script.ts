// `plan --output`: one script a DBA runs by hand with the database's own
// client (sqlite3 db < FILE, psql -v ON_ERROR_STOP=1 -f FILE, mariadb db < FILE).
//
// Its first step checks that the database is at exactly the starting state it
// was planned for, and stops before anything changes otherwise: a script run
// twice, or against another database, must not rebuild tables (SQLite's 045
// drops and rebuilds images). Accepted starting states:
//   from      the version table holds exactly the versions up to FROM, all complete;
//   adopt     no version table rows, and the other tool's alembic_version names FROM
//             (ctx.rules.revisionsAt, the project's hooks):
//             the script records the versions up to FROM as `adopted`, as sync does;
//   empty     (planned from empty) no table at all but an empty version table.
// Already at the planned target ("done") and anything else refuse, each with
// its own message. After the check the script leaves exactly the bookkeeping
// sync leaves: version rows (MySQL: progress after every statement, so a
// failed script resumes with glance-db sync) and alembic_version.
//
// How the check stops the client, and whether the script is one transaction,
// is the dialect's (src/dialects/<name>/description.ts script.opening and closing):
// SQLite and PostgreSQL run it as one transaction; where DDL commits on its
// own (MySQL, transactionalDdl false) the check only reads before anything
// changes, and each version records progress after every statement.
import { statementHash } from '../platform/checksum.js';
import { describeDialect, type Dialect } from './driver/dialect.js';
import { application } from './driver/application.js';
import type { VersionRow } from './driver/driver.js';
import { createVersionTableSql, newVersionRow, rowValues, VERSION_COLUMNS } from './driver/version-table.js';
import type { RunContext } from './run-context.js';
import { readMigrationFile, statementsOf } from './files.js';
import type { Plan } from './plan.js';

function literal(v: string | number | null): string {
  if (v === null) return 'NULL';
  return typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

/** Stands for applied_at in a row: the server's clock when the DBA runs the script (not when it was made). */
const APPLIED_AT_NOW = '\u0000applied-at-now';

/** The server's current time as ISO 8601 UTC with milliseconds, the form glance-db writes (2026-11-25T10:15:00.123Z). */
export function serverNowSql(dialect: Dialect): string {
  return describeDialect(dialect).script.nowSql;
}

const list = (xs: (string | number)[]) => xs.map(literal).join(', ');

export const SCRIPT_ALREADY_RAN = 'glance-db: this script already ran on this database; nothing was changed';
export const SCRIPT_WRONG_START =
  'glance-db: the database is not at the state this script starts from; nothing was changed';

export function planScript(ctx: RunContext, p: Plan, generatedAt: string): string {
  const d = describeDialect(p.dialect);
  const table = ctx.manifest.versionTable;
  const all = ctx.manifest.migrations;
  const fromVs = p.from === null ? [] : all.filter((m) => m.version <= p.from!).map((m) => m.version);
  const toVs = all.filter((m) => m.version <= p.to).map((m) => m.version);
  const revs = p.from === null ? [] : ctx.rules.revisionsAt(p.from);
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
  const countIn = (vs: number[]) =>
    vs.length ? `count(CASE WHEN status = 'complete' AND version IN (${list(vs)}) THEN 1 END)` : '0';
  const revIn = revs.length ? `count(CASE WHEN version_num IN (${list(revs)}) THEN 1 END)` : '0';
  const others = (tableList: string) => `${tableList} NOT IN (${list([table, `${table}_lock`])})`;
  const start =
    p.from === null
      ? 'an empty database'
      : `version ${p.from} (recorded by glance-db, or by ${application().tool} in alembic_version: ${revs.join(' or ')})`;

  const adoptedRows: VersionRow[] =
    p.from === null
      ? []
      : all
          .filter((m) => m.version <= p.from!)
          .map((m) => {
            const loaded = readMigrationFile(ctx.manifest, m, p.dialect);
            return row(
              ctx,
              p,
              m.version,
              m.name,
              loaded.checksum,
              'adopted',
              0,
              statementsOf(loaded, p.dialect, m.version).length,
            );
          });
  // The first release's columns only, so the script also runs on a version table made by that release (run_by stays empty: a script does not know who runs it).
  const columns = `INSERT INTO ${table} (${VERSION_COLUMNS.join(', ')})`;
  const values = (r: VersionRow) =>
    rowValues(r)
      .slice(0, VERSION_COLUMNS.length)
      .map((x) => (x === APPLIED_AT_NOW ? serverNowSql(p.dialect) : literal(x)))
      .join(', ');
  const insertIf = (r: VersionRow, cond: string) =>
    `${columns} SELECT ${values(r)}${d.script.selectWithoutTable} WHERE ${cond}`;
  const insertRow = (r: VersionRow) => `${columns} VALUES (${values(r)})`;

  const out = [
    `-- Generated by glance-db ${ctx.toolVersion} at ${generatedAt} for ${p.dialect}: from ${p.from ?? 'an empty database'} to version ${p.to}.`,
    `-- Run it with: ${d.script.runWith(application().database)}. Each version records its row in ${table}, so glance-db sees it as applied.`,
    `-- It first checks that the database is at ${start}, and stops before changing anything otherwise; run a second time it refuses and changes nothing.`,
    ...d.script.opening({
      table,
      createVersionTable: createVersionTableSql(table, p.dialect),
      createAlembicVersion: ctx.rules.createBookkeepingTableSql(p.dialect),
      fromVersion: p.from !== null,
      stateCase,
      countFrom: countIn(fromVs),
      countTo: countIn(toVs),
      countRevisions: revIn,
      revisions: revs,
      others,
      start,
      to: p.to,
      adoptIf: (cond) => adoptedRows.map((r) => insertIf(r, cond)),
      adoptRows: () => adoptedRows.map(insertRow),
      literal,
      list,
      alreadyRan: SCRIPT_ALREADY_RAN,
      wrongStart: SCRIPT_WRONG_START,
    }),
  ];
  for (const pv of p.versions) {
    const total = pv.statements.length;
    const done = row(ctx, p, pv.version, pv.name, pv.checksum, 'applied', total, total);
    out.push('', `-- Version ${pv.version} ${pv.name}: ${pv.file} ${pv.checksum}`);
    if (d.transactionalDdl) {
      out.push(...pv.statements.map((s) => `${s};`), ...pv.bookkeeping.map((s) => `${s};`), `${insertRow(done)};`);
      continue;
    }
    // As sync does where DDL commits on its own (MySQL): a failed row first, progress after every statement, complete at the end.
    const hashes: string[] = [];
    out.push(
      `${insertRow({ ...done, status: 'failed', statementsApplied: 0, statementHashes: [], error: 'in progress (interrupted if this stays)' })};`,
    );
    pv.statements.forEach((s, i) => {
      hashes.push(statementHash(s));
      out.push(
        `${s};`,
        `UPDATE ${table} SET statements_applied = ${i + 1}, statements_total = ${total}, statement_hashes = ${literal(JSON.stringify(hashes))}, error = NULL WHERE version = ${pv.version};`,
      );
    });
    out.push(
      ...pv.bookkeeping.map((s) => `${s};`),
      `UPDATE ${table} SET status = 'complete', error = NULL WHERE version = ${pv.version};`,
    );
  }
  out.push('', ...d.script.closing);
  return `${out.join('\n')}\n`;
}

/** A row as sync would record it; applied_at: when the DBA runs the script, by the server's clock. */
function row(
  ctx: RunContext,
  p: Plan,
  version: number,
  name: string,
  checksum: string,
  kind: VersionRow['kind'],
  applied: number,
  total: number,
): VersionRow {
  const what = { version, name, dialect: p.dialect, checksum, kind };
  // No run_by: a script does not know who runs it.
  const by = { toolVersion: ctx.toolVersion };
  return newVersionRow(by, { ...what, statementsApplied: applied, statementsTotal: total, appliedAt: APPLIED_AT_NOW });
}
