// Networks and processes that misbehave mid-version, on both servers: a
// connection black-holed or reset by a loopback proxy, a session the server
// kills, SIGINT/SIGTERM, and (MySQL) a lock holder paused past its lease.
// Each run ends with its documented exit code, the server is left with
// nothing running for it, and the next run proceeds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mysqlEnv, postgresEnv, type DialectEnv, type TestDb } from './dialects.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  LATEST,
  ROOT,
  cleanEnv,
  cli,
  extraVersion,
  makeProject,
  removeProject,
  type CliResult,
} from './helpers.js';
import { startProxy } from './proxy.js';
import { serverParts } from './servers.js';

const NEXT = LATEST + 1;
// The middle statement sleeps as long as the test table net_sleep says: long for the run under test, 0 for the next run.
const VERSION = extraVersion(NEXT, 'net_probe', {
  sqlite: 'SELECT 1;\n',
  postgresql:
    'CREATE TABLE net_mark (x INT);\nSELECT pg_sleep((SELECT coalesce(max(s), 0) FROM net_sleep));\nINSERT INTO net_mark VALUES (1);\n',
  mysql:
    'CREATE TABLE net_mark (x INT);\nSELECT SLEEP((SELECT coalesce(max(s), 0) FROM net_sleep));\nINSERT INTO net_mark VALUES (1);\n',
});

interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** The built CLI in the background, killed after 3 minutes so that a hang fails the test instead of stalling the suite. */
function start(args: string[], cwd: string, env: Record<string, string> = {}): Running {
  // As cli() runs it: nothing from the machine (GLANCE_DB_URL, an installed Glance, Glance's config folders).
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...cleanEnv(), ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code: code ?? (signal === 'SIGKILL' ? -9 : -1), stdout, stderr });
    }),
  );
  return { child, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SQL that counts the sessions of this database running the sleep statement (not counting the asking session; other tests' databases may sleep too). */
function sleepingSql(dialect: string): string {
  return dialect === 'postgresql'
    ? "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep((SELECT coalesce%' AND pid <> pg_backend_pid() AND datname = current_database()"
    : "SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP((SELECT coalesce%' AND ID <> CONNECTION_ID() AND DB = DATABASE()";
}

async function sleeping(db: TestDb, dialect: string): Promise<number> {
  return Number((await db.rows(sleepingSql(dialect)))[0].n);
}

/** Waits until the run under test is inside the sleep statement (or has ended). */
async function untilSleeping(db: TestDb, dialect: string, run: Running): Promise<void> {
  let ended = false;
  void run.done.then(() => (ended = true));
  while (!ended && (await sleeping(db, dialect)) === 0) await sleep(100);
  if (ended) assert.unreachable(`the run ended before its sleep statement: ${(await run.done).stderr}`);
}

async function setSleep(db: TestDb, seconds: number): Promise<void> {
  await db.exec(`DELETE FROM net_sleep`);
  await db.exec(`INSERT INTO net_sleep VALUES (${seconds})`);
}

function tests(env: DialectEnv): void {
  const s = suite(`network: ${env.dialect}`);
  if (!env.available()) {
    s.run();
    return;
  }
  const dialect = env.dialect;
  const lease = { GLANCE_DB_LOCK_LEASE: '2' };

  /** A database at LATEST with the net_sleep table, and a project whose next version sleeps. */
  async function withProject(fn: (db: TestDb, dir: string) => Promise<void>): Promise<void> {
    const dir = makeProject(VERSION);
    const db = await env.create();
    try {
      const r = cli(['sync', String(LATEST), '--url', db.url], { cwd: dir });
      assert.is(r.code, 0, r.stderr);
      await db.exec('CREATE TABLE net_sleep (s INT)');
      // The test's own table is drift, which stops sync: accepted once, as an operator would.
      const accepted = cli(['sync', String(LATEST), '--accept-drift', '--url', db.url], { cwd: dir });
      assert.is(accepted.code, 0, accepted.stderr);
      await fn(db, dir);
    } finally {
      await db.drop();
      removeProject(dir);
    }
  }

  /** The next run, with no sleep left, proceeds and completes the version once. */
  async function nextRunProceeds(db: TestDb, dir: string): Promise<void> {
    await setSleep(db, 0);
    const r = cli(['sync', '--url', db.url, '--lock-wait', '100'], { cwd: dir, env: lease });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, `database is at version ${NEXT}`);
    const [row] = await db.rows(`SELECT status FROM glance_db_version WHERE version = ${NEXT}`);
    assert.is(row.status, 'complete');
    assert.equal(
      (await db.rows('SELECT x FROM net_mark')).map((x) => Number(x.x)),
      [1],
    );
  }

  const oneParagraph = (stderr: string) => {
    // progress: lines (a step longer than GLANCE_DB_PROGRESS_SECONDS) may come first; then the one error paragraph.
    assert.match(stderr.replace(/^progress: .*\n/gm, ''), /^error: /);
    assert.not.match(stderr, /internal error|This is a bug|\n\s+at /);
  };

  s(
    'a statement longer than --io-timeout on a live connection is not cut: the server says it is still running it',
    () =>
      withProject(async (db, dir) => {
        await setSleep(db, 5);
        const r = cli(['sync', '--url', db.url, '--io-timeout', '2'], { cwd: dir, env: lease });
        assert.is(r.code, 0, r.stderr);
        assert.match(r.stdout, `applied ${NEXT} net_probe`);
      }),
  );

  s('a connection black-holed mid-version ends the run with exit 18 within --io-timeout; the next run proceeds', () =>
    withProject(async (db, dir) => {
      await setSleep(db, 3);
      const { host, port } = serverParts(dialect as 'postgresql' | 'mysql');
      const proxy = await startProxy(host, Number(port));
      try {
        const run = start(['sync', '--url', proxy.url(db.url), '--io-timeout', '2'], dir, lease);
        await untilSleeping(db, dialect, run);
        proxy.blackhole();
        const r = await run.done;
        assert.is(r.code, 18, r.stderr);
        oneParagraph(r.stderr);
        assert.match(
          r.stderr,
          /was lost mid-run: no answer for 2 s, and a second connection could not reach the server either/,
        );
        await nextRunProceeds(db, dir);
      } finally {
        await proxy.close();
      }
    }),
  );

  s('a connection reset mid-version ends the run with exit 18 and a clear message; the next run proceeds', () =>
    withProject(async (db, dir) => {
      await setSleep(db, 3);
      const { host, port } = serverParts(dialect as 'postgresql' | 'mysql');
      const proxy = await startProxy(host, Number(port));
      try {
        const run = start(['sync', '--url', proxy.url(db.url)], dir, lease);
        await untilSleeping(db, dialect, run);
        proxy.reset();
        const r = await run.done;
        assert.is(r.code, 18, r.stderr);
        oneParagraph(r.stderr);
        assert.match(r.stderr, /was lost mid-run: .*(ECONNRESET|terminated|lost)/i);
        await nextRunProceeds(db, dir);
      } finally {
        await proxy.close();
      }
    }),
  );

  s(
    'the server ending the session mid-version (pg_terminate_backend / KILL CONNECTION) ends the run with exit 18',
    () =>
      withProject(async (db, dir) => {
        await setSleep(db, 60);
        const run = start(['sync', '--url', db.url], dir, lease);
        await untilSleeping(db, dialect, run);
        await db.exec(
          dialect === 'postgresql'
            ? "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep((SELECT coalesce%' AND datname = current_database()"
            : (
                await db.rows(
                  "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP((SELECT coalesce%' AND ID <> CONNECTION_ID() AND DB = DATABASE()",
                )
              )
                .map((x) => `KILL CONNECTION ${x.id};`)
                .join('\n'),
        );
        const r = await run.done;
        assert.is(r.code, 18, r.stderr);
        oneParagraph(r.stderr);
        assert.match(r.stderr, /was lost mid-run/);
        await nextRunProceeds(db, dir);
      }),
  );

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    s(`${signal} mid-statement cancels the statement on the server and exits 22; the next run proceeds`, () =>
      withProject(async (db, dir) => {
        await setSleep(db, 60);
        const run = start(['sync', '--url', db.url], dir, lease);
        await untilSleeping(db, dialect, run);
        run.child.kill(signal);
        const r = await run.done;
        assert.is(r.code, 22, r.stderr);
        oneParagraph(r.stderr);
        assert.match(r.stderr, `Interrupted by ${signal}: the statement running on the server was cancelled`);
        // Cancelled before the process exited: nothing of it runs on the server any more.
        assert.is(await sleeping(db, dialect), 0);
        await nextRunProceeds(db, dir);
      }),
    );
  }

  if (dialect === 'postgresql') {
    s(
      'kill -9 mid-statement: the server notices the closed socket and ends the session, so the next run gets the lock',
      () =>
        withProject(async (db, dir) => {
          await setSleep(db, 600);
          const run = start(['sync', '--url', db.url, '--io-timeout', '3'], dir);
          await untilSleeping(db, dialect, run);
          run.child.kill('SIGKILL');
          await run.done;
          // Without client_connection_check_interval the 600 s sleep would hold the lock past this --lock-wait.
          await nextRunProceeds(db, dir);
        }),
    );
  }

  s.run();
}

tests(postgresEnv);
tests(mysqlEnv);
fencing();

/**
 * MySQL's lock is a lease: a holder paused past it (SIGSTOP, Ctrl-Z, a
 * suspended VM) is taken over. Woken up, it must notice and stop, changing
 * nothing more: before the fencing token it went on and set alembic_version
 * back to its own, older revision.
 */
function fencing(): void {
  const s = suite('network: mysql lock fencing');
  if (!mysqlEnv.available()) {
    s.run();
    return;
  }
  s(
    'a run paused past the lock lease, taken over and resumed, stops with exit 19 and leaves the bookkeeping as the new holder left it',
    async () => {
      // Version 45 of this project ends with a statement that sleeps as long as net_sleep says.
      const file = 'sql/mysql/045_add_visibility.sql';
      const dir = makeProject({
        [file]: `${readFileSync(join(ROOT, file), 'utf8')}\nSELECT SLEEP((SELECT coalesce(max(s), 0) FROM net_sleep));\n`,
      });
      const db = await mysqlEnv.create();
      const lease = { GLANCE_DB_LOCK_LEASE: '2' };
      const state = async () => ({
        alembic: await db.rows('SELECT version_num FROM alembic_version'),
        versions: await db.rows('SELECT * FROM glance_db_version ORDER BY version'),
      });
      try {
        assert.is(cli(['sync', '44', '--url', db.url], { cwd: dir }).code, 0);
        await db.exec('CREATE TABLE net_sleep (s INT)');
        // The test's own table is drift, which stops sync: accepted once, as an operator would.
        const accepted = cli(['sync', '44', '--accept-drift', '--url', db.url], { cwd: dir });
        assert.is(accepted.code, 0, accepted.stderr);
        await setSleep(db, 3);
        const first = start(['sync', '--url', db.url], dir, lease);
        await untilSleeping(db, 'mysql', first);
        first.child.kill('SIGSTOP');
        try {
          await setSleep(db, 0);
          const second = cli(['sync', '--url', db.url, '--lock-wait', '60'], { cwd: dir, env: lease });
          assert.is(second.code, 0, second.stderr);
          assert.match(second.stdout, `database is at version ${LATEST}`);
        } finally {
          first.child.kill('SIGCONT');
        }
        const after = await state();
        assert.equal(
          after.alembic.map((r) => r.version_num),
          ['2024_1_contract01'],
        );
        const r = await first.done;
        assert.is(r.code, 19, r.stderr);
        // progress: lines (a step longer than GLANCE_DB_PROGRESS_SECONDS) may come first; then the one error paragraph.
        assert.match(
          r.stderr.replace(/^progress: .*\n/gm, ''),
          /^error: This run lost the migration lock \(table glance_db_version_lock\): it is now held by no one \(the lock row is gone\)|^error: This run lost the migration lock/,
        );
        assert.match(r.stderr, 'This run stopped and changed nothing more.');
        assert.equal(await state(), after);
        assert.equal(await db.rows('SELECT * FROM glance_db_version_lock'), []);
        await db.exec('DROP TABLE net_sleep');
        const check = cli(['check', '--url', db.url], { cwd: dir });
        assert.is(check.code, 0, check.stdout);
      } finally {
        await db.drop();
        removeProject(dir);
      }
    },
  );
  s.run();
}
