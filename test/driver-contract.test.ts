// The driver contract (src/core/driver/driver.ts), called directly on each real
// dialect, with the engine's own runner for versions (src/core/apply.ts):
// what a new driver must pass. The servers are mandatory here: a missing
// server fails the test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isSqlToken } from 'slonik';
import { statementHash } from '../src/platform/checksum.js';
import type { Driver, VersionRow } from '../src/core/driver/driver.js';
import { applyVersion, startedMarker, type PendingVersion } from '../src/core/apply.js';
import { MigrationFailedError } from '../src/platform/errors.js';
import { historyBasis } from '../src/core/driver/version-table.js';
import { mysqlEnv, postgresEnv, sqliteEnv, testDriver, withDb, type DialectEnv } from './dialects.js';

const open = async (url: string): Promise<Driver> => {
  const d = await testDriver(url);
  await d.open();
  return d;
};

function row(d: Driver, version: number, total: number, kind: VersionRow['kind'] = 'applied'): VersionRow {
  return {
    version,
    name: `v${version}`,
    dialect: d.dialect,
    checksum: `sha256-lf:${version}`,
    kind,
    status: 'complete',
    statementsApplied: total,
    statementsTotal: total,
    statementHashes: null,
    error: null,
    appliedAt: '2024-01-01T00:00:00.000Z',
    executionMs: 0,
    toolVersion: '0.0.0-test',
    added: { run_by: 'test@host' },
  };
}

function pending(d: Driver, version: number, texts: string[]): PendingVersion {
  const statements = texts.map((text, index) => ({ index, text, line: index + 1, column: 1, offset: 0 }));
  return {
    version,
    name: `v${version}`,
    file: `sql/v${version}.sql`,
    statements,
    row: row(d, version, texts.length),
    resumeFrom: 0,
    after: [],
  };
}

const count = async (d: Driver, table: string) => Number((await d.query(`SELECT count(*) AS n FROM ${table}`))[0].n);

for (const env of [sqliteEnv, postgresEnv, mysqlEnv] as DialectEnv[]) {
  test(`driver contract (${env.dialect}): open, lock, version table, a version run by the engine, history, refusals, close`, async () => {
    assert.ok(env.available(), `the ${env.dialect} server is required`);
    await withDb(env, async (db) => {
      let d = await open(db.url);
      try {
        // sqlite: the file does not exist until the first write-back.
        assert.is(d.exists(), env.dialect !== 'sqlite');
        await d.lock();
        assert.equal(await d.listTables(), []);
        assert.equal(await d.readHistory(), [], 'no version table: no history');
        await d.ensureVersionTable();
        await d.ensureVersionTable();
        assert.ok((await d.listTables()).includes('glance_db_version'));
        assert.equal(await d.readHistory(), []);

        // recordRows: only into an empty table.
        assert.ok(await d.recordRows([row(d, 0, 0, 'baseline')]));
        assert.not.ok(await d.recordRows([row(d, 1, 0, 'baseline')]), 'refused over a non-empty table');
        assert.equal(
          (await d.readHistory()).map((r) => `${r.version}:${r.kind}`),
          ['0:baseline'],
        );

        // A version, run by the engine on the driver's primitives.
        const v1 = pending(d, 1, ['CREATE TABLE contract_t (id INTEGER)', 'INSERT INTO contract_t (id) VALUES (1)']);
        const seen: number[] = [];
        const result = await applyVersion(d, v1, (s) => seen.push(s.index));
        assert.is(result.outcome, 'applied');
        assert.equal(seen, [0, 1]);
        const h1 = (await d.readHistory()).find((r) => r.version === 1)!;
        assert.equal(
          [h1.status, h1.kind, h1.statementsApplied, h1.statementsTotal, h1.checksum, h1.error],
          ['complete', 'applied', 2, 2, 'sha256-lf:1', null],
        );
        assert.is(
          h1.executionMs,
          result.outcome === 'applied' ? result.ms : -1,
          'the time returned is the time recorded',
        );
        assert.is(h1.added?.run_by, 'test@host');
        if (!d.transactionalDdl)
          assert.equal(
            h1.statementHashes,
            v1.statements.map((s) => statementHash(s.text)),
          );
        assert.is(await count(d, 'contract_t'), 1);

        // Already applied (a concurrent run's, found under the lock): nothing runs again.
        assert.equal(await applyVersion(d, v1), { outcome: 'already-applied' });
        assert.is(await count(d, 'contract_t'), 1);

        // A failing statement: rolled back whole, or (DDL not transactional) left resumable with its progress.
        const v2 = pending(d, 2, [
          'CREATE TABLE contract_u (id INTEGER)',
          'INSERT INTO contract_missing (id) VALUES (1)',
        ]);
        try {
          await applyVersion(d, v2);
          assert.unreachable('the version did not fail');
        } catch (err) {
          assert.instance(err, MigrationFailedError);
          assert.match((err as Error).message, 'sql/v2.sql:2:1');
        }
        const h2 = (await d.readHistory()).find((r) => r.version === 2);
        if (d.transactionalDdl) {
          assert.is(h2, undefined, 'no row for a rolled-back version');
          assert.not.ok((await d.listTables()).includes('contract_u'));
        } else {
          assert.equal([h2?.status, h2?.statementsApplied], ['failed', 1]);
          assert.ok((await d.listTables()).includes('contract_u'));
        }

        // A version transaction that throws leaves nothing behind.
        await d
          .versionTransaction(async (tx) => {
            await tx.insertRow(row(d, 3, 0));
            throw new Error('stop');
          })
          .catch(() => {});
        assert.is(
          (await d.readHistory()).find((r) => r.version === 3),
          undefined,
        );

        await d.setNote(1, '{"finished":"test"}');

        // editHistory with a basis writes only while the version table still reads as the rows it was planned
        // from (a hand-back record; PostgreSQL's lock is per transaction, so another run may record in between).
        const planned = await d.readHistory();
        const note = (text: string) => [
          { sql: 'UPDATE glance_db_version SET note = ? WHERE version = ?', params: [text, 0] },
        ];
        assert.ok(await d.editHistory(note('{"basis":"current"}'), historyBasis(planned)));
        assert.is((await d.readHistory())[0].note, '{"basis":"current"}');
        const stale = planned.filter((r) => r.version !== 1);
        assert.not.ok(
          await d.editHistory(note('{"basis":"stale"}'), historyBasis(stale)),
          'a stale basis writes nothing',
        );
        assert.is((await d.readHistory())[0].note, '{"basis":"current"}');
        assert.ok(await d.editHistory(note('{"basis":null}')), 'no basis: written');
      } finally {
        await d.close();
      }
      // What was committed is there for the next run (SQLite: written back at close).
      d = await open(db.url);
      try {
        assert.ok(d.exists());
        const rows = await d.readHistory();
        assert.equal(
          rows.map((r) => `${r.version}:${r.status}`),
          d.transactionalDdl ? ['0:complete', '1:complete'] : ['0:complete', '1:complete', '2:failed'],
        );
        assert.is(rows.find((r) => r.version === 1)!.note, '{"finished":"test"}');
      } finally {
        await d.close();
      }
    });
  });
}

test('PostgreSQL: a connection the server ends while it sits idle in a transaction fails that transaction, it does not crash the process', async () => {
  assert.ok(postgresEnv.available(), 'the postgresql server is required');
  await withDb(postgresEnv, async (db) => {
    const d = await open(db.url);
    try {
      let failed: unknown = null;
      await d
        .transaction(async (tx) => {
          const [{ pid }] = await tx.query('SELECT pg_backend_pid() AS pid');
          // Ended by the server (as an administrator's pg_terminate_backend or a DROP DATABASE WITH (FORCE) would)
          // while no statement of ours runs on it: pg emits 'error' on the client, with no query to reject.
          await db.rows(`SELECT pg_terminate_backend(${Number(pid)}) AS done`);
          await new Promise((resolve) => setTimeout(resolve, 300));
          await tx.query('SELECT 1');
        })
        .catch((err) => (failed = err));
      assert.ok(failed, 'the transaction on the ended connection failed');
    } finally {
      await d.close();
    }
  });
});

test("PostgreSQL: SQL text goes through slonik's public sql tag, parameters included", async () => {
  assert.ok(postgresEnv.available(), 'the postgresql server is required');
  const { raw } = await import('../src/dialects/postgresql/pg-sql.js');
  assert.ok(isSqlToken(raw('SELECT 1')), 'a token slonik recognises');
  assert.throws(() => raw('SELECT $2', [1]), /\$2 in a query with 1 parameter/);
  await withDb(postgresEnv, async (db) => {
    const d = await open(db.url);
    try {
      // $1 twice, a dollar quote with ; and ? in it, a NULL.
      const [r] = await d.query(
        'SELECT $1::int + $2::int AS sum, $1::text AS again, $$a;?$$ AS body, $3::text IS NULL AS absent',
        [2, 3, null],
      );
      assert.equal(r, { sum: 5, again: '2', body: 'a;?', absent: true });
      // Without parameters the text is passed as written, $1 in a dollar quote included.
      assert.equal(await d.query('SELECT $q$x$1$q$ AS t'), [{ t: 'x$1' }]);
    } finally {
      await d.close();
    }
  });
});

test('driver contract (mysql): a DDL statement that had started is accepted on resume when its object is there, triggers included (a node killed after CREATE TRIGGER replicated, before its progress was recorded)', async () => {
  assert.ok(mysqlEnv.available(), 'the mysql server is required');
  await withDb(mysqlEnv, async (db) => {
    const d = await open(db.url);
    try {
      await d.lock();
      await d.ensureVersionTable();
      const texts = [
        'CREATE TABLE trg_t (id INTEGER, a INTEGER)',
        'CREATE TRIGGER trg_a BEFORE INSERT ON trg_t FOR EACH ROW SET NEW.a = 7',
        'INSERT INTO trg_t (id) VALUES (1)',
      ];
      // What the killed run left: statement 1 applied and recorded, statement 2 started (and done on the server).
      await d.executeAlone!(texts[0]);
      await d.executeAlone!(texts[1]);
      assert.equal(
        (
          await d.query('SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()')
        ).map((r) => r.n),
        ['trg_a'],
      );
      const v = pending(d, 3, texts);
      const left: VersionRow = {
        ...v.row,
        status: 'failed',
        statementsApplied: 1,
        statementHashes: [statementHash(texts[0])],
        error: startedMarker(1),
      };
      await d.versionTransaction((tx) => tx.insertRow(left));
      const r = await applyVersion(d, { ...v, resumeFrom: 1 });
      assert.is(r.outcome, 'applied');
      const h = (await d.readHistory()).find((x) => x.version === 3)!;
      assert.equal([h.status, h.statementsApplied, h.error], ['complete', 3, null]);
      assert.equal(Number((await d.query('SELECT a FROM trg_t WHERE id = 1'))[0].a), 7);
    } finally {
      await d.close();
    }
  });
});

test.run();
