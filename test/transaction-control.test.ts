// Issue 32, item 2: a version file that holds transaction control (BEGIN,
// COMMIT, ...). On PostgreSQL such a file passed lint, sync committed part of
// it and then said "Rolled back" while the column was there. Now lint, sync
// and plan refuse the file before anything runs (exit 3, file, line,
// statement), on every dialect; and a failed version says "rolled back" only
// when the database shows it (the engine runs the statements directly below,
// as nothing that passes the files' check can end the transaction).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Driver, VersionRow } from '../src/core/driver/driver.js';
import { applyVersion, type PendingVersion } from '../src/core/apply.js';
import { MigrationFailedError } from '../src/platform/errors.js';
import { mysqlEnv, postgresEnv, sqliteEnv, testDriver, withDb, type DialectEnv, type TestDb } from './dialects.js';
import { cli, extraVersion, LATEST, makeProject, removeProject, runCli } from './helpers.js';

const NEXT = LATEST + 1;
/** The issue's file: a transaction of its own around an added column, then a statement that fails. */
const ISSUE_FILE = 'BEGIN;\nALTER TABLE images ADD COLUMN x_tx INTEGER;\nCOMMIT;\nSELECT * FROM no_such_table;\n';

const columnsOfImages = async (db: TestDb, dialect: string) =>
  (dialect === 'sqlite'
    ? await db.rows("SELECT name FROM pragma_table_info('images')")
    : await db.rows(
        "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'images' AND table_schema = " +
          (dialect === 'mysql' ? 'DATABASE()' : 'current_schema()'),
      )
  ).map((r) => String(r.name).toLowerCase());

for (const env of [sqliteEnv, postgresEnv, mysqlEnv] as DialectEnv[]) {
  test(`${env.dialect}: the issue's version file (BEGIN; ALTER ... ADD COLUMN; COMMIT; a failing statement) is refused by lint, sync and plan before anything runs (exit 3)`, async () => {
    if (!env.available()) return console.log(`  SKIP: ${env.dialect} not reachable`);
    const dir = makeProject(extraVersion(NEXT, 'own_transaction', ISSUE_FILE));
    try {
      await withDb(env, async (db) => {
        assert.is((await runCli(['sync', String(LATEST), '--url', db.url], { cwd: dir })).code, 0);
        const file = `sql/${env.dialect}/${NEXT}_own_transaction.sql`;

        const lint = await runCli(['lint', '--update'], { cwd: dir });
        assert.is(lint.code, 3, lint.stdout + lint.stderr);
        assert.match(
          lint.stderr,
          /^error: sql\/\w+\/\d+_own_transaction\.sql:1 \(version \d+\) holds transaction control \(BEGIN\)/m,
        );

        const r = await runCli(['sync', '--url', db.url, '--json'], { cwd: dir });
        assert.is(r.code, 3, r.stdout + r.stderr);
        const err = JSON.parse(r.stdout).error;
        assert.equal([err.code, err.version, err.file, err.line, err.statement], ['CONFIG', NEXT, file, 1, 'BEGIN']);
        assert.not.ok((await columnsOfImages(db, env.dialect)).includes('x_tx'), 'the column was not added');
        assert.equal(
          (await db.rows(`SELECT version FROM glance_db_version WHERE version = ${NEXT}`)).length,
          0,
          'no row for the version',
        );
        const check = await runCli(['check', '--url', db.url], { cwd: dir });
        assert.is(check.code, 13, `still one version behind: ${check.stdout}`);

        const plan = await runCli(['plan', '--url', db.url], { cwd: dir });
        assert.is(plan.code, 3, plan.stdout + plan.stderr);
        const out = join(dir, 'upgrade.sql');
        const script = await runCli(['plan', '--dialect', env.dialect, '--from', String(LATEST), '--output', out], {
          cwd: dir,
        });
        assert.is(script.code, 3, script.stdout + script.stderr);
        assert.match(script.stderr, `${file}:1`);
        assert.not.ok(existsSync(out), 'no plan script written');
      });
    } finally {
      removeProject(dir);
    }
  });
}

// Real processes: the exit code and the stdout/stderr split are the contract (the per-dialect cases above run in process).
test('MySQL LOCK TABLES and UNLOCK TABLES are refused; PostgreSQL LOCK TABLE (held until the version commits) is not', () => {
  const dir = makeProject(
    extraVersion(NEXT, 'locks', {
      sqlite: 'CREATE TABLE t_locks (id INTEGER);\n',
      postgresql: 'LOCK TABLE images IN SHARE ROW EXCLUSIVE MODE;\nCREATE TABLE t_locks (id INTEGER);\n',
      mysql: 'CREATE TABLE t_locks (id INTEGER);\n-- a comment first\nlock tables images write;\nUNLOCK TABLES;\n',
    }),
  );
  try {
    const r = cli(['lint', '--update'], { cwd: dir });
    assert.is(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, `sql/mysql/${NEXT}_locks.sql:3 (version ${NEXT}) holds a session table lock (LOCK TABLES)`);
    assert.is(
      cli(['plan', '--dialect', 'postgresql', '--from', String(LATEST)], { cwd: dir }).code,
      0,
      'PostgreSQL LOCK TABLE is fine',
    );
  } finally {
    removeProject(dir);
  }
});

const openDriver = async (url: string): Promise<Driver> => {
  const d = await testDriver(url);
  await d.open();
  await d.lock();
  await d.ensureVersionTable();
  return d;
};

function pending(d: Driver, texts: string[]): PendingVersion {
  const row: VersionRow = {
    version: 7,
    name: 'v7',
    dialect: d.dialect,
    checksum: 'sha256-lf:7',
    kind: 'applied',
    status: 'complete',
    statementsApplied: texts.length,
    statementsTotal: texts.length,
    statementHashes: null,
    error: null,
    appliedAt: '2024-01-01T00:00:00.000Z',
    executionMs: 0,
    toolVersion: '0.0.0-test',
  };
  return {
    version: 7,
    name: 'v7',
    file: 'sql/v7.sql',
    statements: texts.map((text, index) => ({ index, text, line: index + 1, column: 1, offset: 0 })),
    row,
    resumeFrom: 0,
    after: [],
  };
}

/** Runs the statements as one version through the engine; returns the error. */
async function failing(d: Driver, texts: string[]): Promise<Error> {
  try {
    await applyVersion(d, pending(d, texts));
  } catch (err) {
    return err as Error;
  }
  throw new Error('the version did not fail');
}

for (const env of [sqliteEnv, postgresEnv] as DialectEnv[]) {
  test(`${env.dialect}: a failed version says "rolled back" only when the database shows it; a transaction ended part way is reported as such, and its row stays failed`, async () => {
    if (!env.available()) return console.log(`  SKIP: ${env.dialect} not reachable`);
    await withDb(env, async (db) => {
      const d = await openDriver(db.url);
      try {
        // An ordinary failure: rolled back, and it is.
        const plain = await failing(d, ['CREATE TABLE tx_plain (x INTEGER)', 'SELECT * FROM no_such_table']);
        assert.instance(plain, MigrationFailedError);
        assert.match(plain.message, 'Rolled back: the database is still at the version before 7.');
        assert.equal(await d.readHistory(), []);
        assert.not.ok((await d.listTables()).includes('tx_plain'));

        // The issue's statements, run as the engine runs a version (the files' check refuses them before this point).
        const texts =
          env.dialect === 'postgresql'
            ? ['BEGIN', 'CREATE TABLE tx_part (x INTEGER)', 'COMMIT', 'SELECT * FROM no_such_table']
            : ['CREATE TABLE tx_part (x INTEGER)', 'COMMIT', 'SELECT * FROM no_such_table'];
        const err = await failing(d, texts);
        assert.instance(err, MigrationFailedError, `a migration failure, not ${err.message}`);
        assert.not.match(err.message, 'Rolled back');
        assert.match(
          err.message,
          `Not rolled back: glance-db's transaction for version 7 had already ended before this statement`,
        );
        assert.ok(
          (await d.listTables()).includes('tx_part'),
          'the table the file committed is there, as the message says',
        );
        const [row] = await d.readHistory();
        assert.equal([row.version, row.status], [7, 'failed']);
        assert.match(String(row.error), 'Not rolled back');
      } finally {
        await d.close();
      }
    });
  });
}

test.run();
