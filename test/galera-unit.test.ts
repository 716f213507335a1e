// The Galera pre-flight rules and the certification retry, without a
// cluster: each rule on its own settings, and the retry with a stand-in
// transaction that loses certification a given number of times.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServerDriver } from '../src/dialects/mysql/driver.js';
import { mysql } from '../src/dialects/mysql/description.js';
import { applyVersion, type PendingVersion } from '../src/core/apply.js';
import { MigrationFailedError } from '../src/platform/errors.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { join } from 'node:path';
import type { Driver } from '../src/core/driver/driver.js';
import { loadManifest } from '../src/core/manifest/load.js';
import type { RunContext } from '../src/core/run-context.js';
import { glanceRules } from '../src/glance/rules.js';
import { plannedSteps, syncsByPhases } from '../src/core/rolling.js';
import { runSteps } from '../src/core/rolling-steps.js';
import { ROOT } from './helpers.js';
import { closedPort } from './servers.js';
import { preflightChecks } from '../src/core/preflight.js';
import {
  CertificationFailed,
  createsRoutine,
  preflight,
  PreflightError,
  retryCertification,
  type ServerSettings,
} from '../src/dialects/mysql/galera.js';

const s = suite('galera pre-flight and certification retry (unit)');

const synced: ServerSettings = {
  galera: true,
  provider: true,
  wsrepOn: true,
  osuMethod: 'TOI',
  desync: false,
  localState: 'Synced',
  clusterStatus: 'Primary',
  logBin: false,
  trustFunctionCreators: false,
  superUser: false,
  node: 'node1',
};
const refusal = (settings: Partial<ServerSettings>, statements: string[] = []) => {
  try {
    preflight({ ...synced, ...settings }, statements);
    return null;
  } catch (err) {
    assert.instance(err, PreflightError);
    assert.is((err as PreflightError).exitCode, 32);
    return err as PreflightError;
  }
};

s('a Synced, Primary, TOI node passes; so does a server without Galera', () => {
  assert.is(refusal({}), null);
  assert.is(
    refusal({ galera: false, provider: false, wsrepOn: false, localState: '', clusterStatus: '', osuMethod: 'RSU' }),
    null,
  );
});

s('each unsafe node state is refused with its own check named', () => {
  assert.match(refusal({ localState: 'Joined' })!.message, /is not Synced \(wsrep_local_state_comment = Joined\)/);
  assert.match(refusal({ localState: 'Donor/Desynced' })!.message, /not Synced/);
  assert.is(refusal({ clusterStatus: 'non-Primary', localState: 'Initialized' })!.fields.check, 'wsrep_cluster_status');
  assert.is(refusal({ osuMethod: 'RSU' })!.fields.check, 'wsrep_OSU_method');
  assert.is(refusal({ desync: true, localState: 'Donor/Desynced' })!.fields.check, 'wsrep_desync');
  assert.is(refusal({ galera: false, wsrepOn: false })!.fields.check, 'wsrep_on');
});

s('a pending trigger or function needs log_bin_trust_function_creators or SUPER (Galera, or the binary log on)', () => {
  const trig = [
    'ALTER TABLE images ADD COLUMN x INT',
    '-- note\nCREATE DEFINER = CURRENT_USER TRIGGER t BEFORE UPDATE ON images FOR EACH ROW SET NEW.x = 1',
  ];
  assert.match(refusal({}, trig)!.message, /creates a trigger/);
  assert.match(refusal({}, trig)!.hint!, /SET GLOBAL log_bin_trust_function_creators = ON/);
  assert.match(
    refusal({ galera: false, provider: false, wsrepOn: false, logBin: true }, [
      'CREATE OR REPLACE FUNCTION f() RETURNS INT RETURN 1',
    ])!.message,
    /stored function/,
  );
  assert.is(refusal({ trustFunctionCreators: true }, trig), null);
  assert.is(refusal({ superUser: true }, trig), null);
  assert.is(refusal({ galera: false, provider: false, wsrepOn: false, logBin: false }, trig), null);
  assert.ok(!createsRoutine("INSERT INTO t VALUES ('CREATE TRIGGER')"));
  assert.ok(!createsRoutine('CREATE TABLE triggers (id INT)'));
});

const conflict = () =>
  Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), { errno: 1213 });

s(
  'a data transaction that loses certification is rolled back and retried with growing pauses, then succeeds',
  async () => {
    let calls = 0;
    let rollbacks = 0;
    const pauses: number[] = [];
    const out = await retryCertification(
      async () => {
        calls++;
        if (calls < 3) throw conflict();
        return 'done';
      },
      async () => void rollbacks++,
      { attempts: 5, baseDelayMs: 100, sleep: async (ms) => void pauses.push(ms) },
    );
    assert.equal([out, calls, rollbacks, pauses], ['done', 3, 2, [100, 200]]);
  },
);

s('certification lost every time: bounded attempts, then reported with the count', async () => {
  let calls = 0;
  try {
    await retryCertification(
      async () => {
        calls++;
        throw conflict();
      },
      async () => {},
      { attempts: 4, baseDelayMs: 1, sleep: async () => {} },
    );
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CertificationFailed);
    assert.is(calls, 4);
    assert.match(
      (err as Error).message,
      /Deadlock found .*error 1213, a Galera certification failure .* tried 4 times/,
    );
  }
});

s('any other error is not retried', async () => {
  let calls = 0;
  try {
    await retryCertification(
      async () => {
        calls++;
        throw Object.assign(new Error('Duplicate entry'), { errno: 1062 });
      },
      async () => {},
      { attempts: 5, baseDelayMs: 1, sleep: async () => {} },
    );
    assert.unreachable();
  } catch (err) {
    assert.is((err as { errno: number }).errno, 1062);
    assert.is(calls, 1);
  }
});

/** The MySQL driver over a stand-in connection whose data statement loses certification `losses` times. */
// Never dialled (the connection is the stand-in), and if it were: a port where nothing listens.
const NO_SERVER = `mysql://root@127.0.0.1:${await closedPort()}/none`;

function driverLosing(losses: number) {
  const log: string[] = [];
  let left = losses;
  const conn = {
    query: async (sql: string) => {
      // DATA marks the data statement; the rest are glance-db's own bookkeeping (version row, lock check).
      log.push(/^UPDATE images/.test(sql) ? 'DATA' : sql.split(' ')[0]);
      if (/^UPDATE images/.test(sql) && left-- > 0) throw conflict();
      return [/^SELECT/.test(sql) ? [] : { affectedRows: 1 }];
    },
    execute: async (sql: string) => (log.push(sql.split(' ')[0]), [{ affectedRows: 1 }]),
    beginTransaction: async () => void log.push('BEGIN'),
    commit: async () => void log.push('COMMIT'),
    rollback: async () => void log.push('ROLLBACK'),
    end: async () => {},
  };
  const driver = createServerDriver(
    {
      target: parseDatabaseUrl(NO_SERVER, process.cwd()),
      versionTable: 'glance_db_version',
      lockWaitMs: 0,
      connectTimeoutMs: 0,
      statementTimeoutMs: 0,
      lockTimeoutMs: 0,
    },
    mysql,
  );
  (driver as unknown as { conn: unknown }).conn = conn;
  const text = "UPDATE images SET visibility = 'public' WHERE is_public = 1";
  const p: PendingVersion = {
    version: 45,
    name: 'add_visibility',
    file: 'sql/mysql/045_add_visibility.sql',
    resumeFrom: 0,
    after: [],
    statements: [{ index: 0, text, line: 1, column: 1, offset: 0 } as PendingVersion['statements'][number]],
    row: {
      version: 45,
      name: 'add_visibility',
      dialect: 'mysql',
      checksum: 'x',
      kind: 'applied',
      status: 'complete',
      statementsApplied: 1,
      statementsTotal: 1,
      statementHashes: null,
      error: null,
      appliedAt: '',
      executionMs: 0,
      toolVersion: 't',
    },
  };
  return { driver, log, p };
}

s(
  'MySQL driver: a data statement that loses certification twice is retried in a new transaction and the version completes',
  async () => {
    const { driver, log, p } = driverLosing(2);
    assert.is((await applyVersion(driver, p)).outcome, 'applied');
    // The transactions that hold the data statement: rolled back twice, then committed with its progress record.
    const txns = (log.join(' ').match(/BEGIN [^B]*?(COMMIT|ROLLBACK)/g) ?? []).filter((t) => t.includes('DATA'));
    assert.equal(
      txns.map((t) => t.replace(/ SELECT/g, '')),
      ['BEGIN DATA ROLLBACK', 'BEGIN DATA ROLLBACK', 'BEGIN DATA UPDATE COMMIT'],
    );
  },
);

s(
  'MySQL driver: certification lost on every attempt ends as a migration failure naming error 1213 and the attempts',
  async () => {
    const { driver, log, p } = driverLosing(1000);
    try {
      await applyVersion(driver, p);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, MigrationFailedError);
      assert.match((err as Error).message, /error 1213, a Galera certification failure or deadlock.*tried 5 times/);
      assert.is(
        (log.join(' ').match(/BEGIN [^B]*?(COMMIT|ROLLBACK)/g) ?? []).filter((t) => t.includes('DATA')).length,
        5,
      );
    }
  },
);

/** A stand-in MySQL driver for the migrate phase of 45: its batch loses certification `losses` times, then fills `rows` rows once. */
function batchDriver(losses: number, rows: number, wsrep: boolean) {
  let left = losses;
  let todo = rows;
  const calls: string[] = [];
  const row = {
    version: 45,
    name: 'add_visibility',
    dialect: 'mysql',
    checksum: 'x',
    kind: 'applied',
    status: 'expanded',
    statementsApplied: 0,
    statementsTotal: 0,
    statementHashes: null,
    error: null,
    appliedAt: '',
    executionMs: 0,
    toolVersion: 't',
    added: { phases: '{"expand":"x"}' },
  };
  const driver = {
    dialect: 'mysql',
    listTables: async () => ['images', 'glance_db_version'],
    readHistory: async () => [...[42, 43, 44].map((v) => ({ ...row, version: v, status: 'complete', added: {} })), row],
    query: async (sql: string) =>
      /wsrep/.test(sql)
        ? wsrep
          ? [
              { Variable_name: 'wsrep_on', Value: 'ON' },
              { Variable_name: 'wsrep_provider', Value: '/usr/lib/galera/libgalera_smm.so' },
            ]
          : []
        : [{ n: todo }],
    flush: async () => {},
    // As the MySQL driver answers from readSettings(): wsrep_on with a provider loaded.
    replicatesWritesets: async () => wsrep,
    transaction: async (fn: (tx: unknown) => Promise<unknown>) =>
      fn({
        query: async () => [{ status: row.status }],
        run: async (sql: string) => {
          if (!/^UPDATE images/.test(sql)) return (calls.push(sql.split(' ')[0]), 1);
          calls.push('BATCH');
          if (left-- > 0) throw conflict();
          const n = Math.min(todo, 2000);
          todo -= n;
          return n;
        },
      }),
  };
  return { driver: driver as unknown as Driver, calls };
}

s(
  'migrate phase: a batch that loses certification is retried (bounded), the batches go on until one changes no row, then the phase is recorded',
  async () => {
    const manifest = loadManifest(join(ROOT, 'glance-db.yaml'));
    const ctx = {
      manifest,
      toolVersion: 't',
      selection: [],
      rules: glanceRules,
      target: { dialect: 'mysql', display: 'mysql://x/db' },
    } as unknown as RunContext;
    const { driver, calls } = batchDriver(2, 4500, true);
    assert.ok(await syncsByPhases(ctx, driver), 'a node with wsrep_on and a provider is a Galera node');
    assert.not.ok(await syncsByPhases(ctx, batchDriver(0, 0, false).driver), 'a plain MySQL server is not');
    const steps = plannedSteps(ctx, 'mysql', await driver.readHistory(), 'migrate', 51).filter(
      (x) => x.mig.version === 45,
    );
    const events: string[] = [];
    const done = await runSteps(
      ctx,
      driver,
      steps,
      (e) => void (e.type === 'batch' && events.push(`${e.done}/${e.total}`)),
    );
    // Two lost certifications, then batches of 2000, 2000 and 500 rows, then one that changes none; then the row
    // moves to migrated and alembic_version is written again (at 44, the expand head alone), in one transaction.
    assert.equal(calls, ['BATCH', 'BATCH', 'BATCH', 'BATCH', 'BATCH', 'BATCH', 'UPDATE', 'DELETE', 'INSERT']);
    assert.equal(events, ['2000/4500', '4000/4500', '4500/4500', '4500/4500']);
    assert.equal(
      done.map((d) => [d.version, d.phase, d.rows]),
      [[45, 'migrate', 4500]],
    );
  },
);

s(
  'pre-flight before expand: its statements are the phase files (the triggers of 45), not the whole files sync runs',
  async () => {
    const manifest = loadManifest(join(ROOT, 'glance-db.yaml'));
    const ctx = {
      manifest,
      toolVersion: 't',
      selection: [],
      rules: glanceRules,
      target: { dialect: 'mysql', display: 'mysql://x/db' },
    } as unknown as RunContext;
    const rows = [42, 43, 44].map((version) => ({
      version,
      name: 'v',
      dialect: 'mysql',
      checksum: 'x',
      kind: 'applied',
      status: 'complete',
      statementsApplied: 0,
      statementsTotal: 0,
      statementHashes: null,
      error: null,
      appliedAt: '',
      executionMs: 0,
      toolVersion: 't',
    }));
    const checked = async (mode?: 'expand' | 'migrate' | 'phases') => {
      let seen: string[] = [];
      const driver = {
        dialect: 'mysql',
        exists: () => true,
        readHistory: async () => rows,
        preflight: async (pending: () => Promise<string[]>) => void (seen = await pending()),
      } as unknown as Driver;
      await preflightChecks(ctx, driver, 51, undefined, mode);
      return seen;
    };
    const triggers = (xs: string[]) => xs.filter(createsRoutine).map((x) => /TRIGGER (\w+)/.exec(x)![1]);
    assert.equal(triggers(await checked('expand')), ['insert_visibility', 'update_visibility']);
    assert.equal(triggers(await checked()), [], 'sync runs the whole files, which create no trigger');
    assert.equal(
      triggers(await checked('phases')),
      ['insert_visibility', 'update_visibility'],
      'sync by phases (Galera) runs the expand file of 45',
    );
    assert.equal(triggers(await checked('migrate')), []);
    // And the rule: such statements on a Galera node without the setting or SUPER are refused (exit 32) before expand starts.
    assert.match(refusal({}, await checked('expand'))!.message, /creates a trigger/);
  },
);

s.run();
