// PostgreSQL-only behaviour: slonik's defaults turned off, the advisory
// lock, oslo.db URLs and connection errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockKeys } from '../src/dialects/postgresql/lock.js';
import { postgresEnv, withDb as withEnvDb, type TestDb } from './dialects.js';
import { adminSql, clientArgs, clientEnv, closedPort, serverAddress, serverParts } from './servers.js';
import { cli, makeProject, extraVersion, NEXT, removeProject, runCli } from './helpers.js';
import { fakeDumpTool } from './helpers.js';

const s = suite('quirks: postgresql');

const withDb = (fn: (db: TestDb) => Promise<void>) => withEnvDb(postgresEnv, fn);

const settingsSql =
  "CREATE TABLE settings AS SELECT current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS it, current_setting('lock_timeout') AS lt;\n";

if (postgresEnv.available()) {
  s(
    'no statement or lock timeout unless asked; the server ends a silent session after --io-timeout (default 60 s)',
    () =>
      withDb(async (db) => {
        const dir = makeProject(
          extraVersion(NEXT, 'record_settings', { sqlite: 'SELECT 1;', postgresql: settingsSql, mysql: 'SELECT 1;' }),
        );
        try {
          const r = await runCli(['sync', '--url', db.url], { cwd: dir });
          assert.is(r.code, 0, r.stderr);
          assert.equal(await db.rows('SELECT st, it, lt FROM settings'), [{ st: '0', it: '1min', lt: '0' }]);
          await db.exec(`DROP TABLE settings; DELETE FROM glance_db_version WHERE version = ${NEXT}`);
          const r2 = await runCli(['sync', '--url', db.url, '--io-timeout', '300'], { cwd: dir });
          assert.is(r2.code, 0, r2.stderr);
          assert.equal(await db.rows('SELECT it FROM settings'), [{ it: '5min' }]);
        } finally {
          removeProject(dir);
        }
      }),
  );

  s(
    'a user without privileges on the tables gets exit 37 naming the refusal, not an internal error, and no password',
    () =>
      withDb(async (db) => {
        assert.is((await runCli(['sync', '--url', db.url])).code, 0);
        const role = `gdb_ro_${Math.random().toString(16).slice(2, 10)}`;
        adminSql('postgresql', `CREATE ROLE ${role} LOGIN PASSWORD 'Pw-secret-37'`);
        try {
          const url = new URL(db.url);
          url.username = role;
          url.password = 'Pw-secret-37';
          const before = await db.rows('SELECT version, checksum FROM glance_db_version ORDER BY version');
          for (const args of [['check'], ['version'], ['db', 'check'], ['sync'], ['check', '--json']]) {
            const r = await runCli([...args, '--url', url.href]);
            assert.is(r.code, 37, `${args.join(' ')}: ${r.stderr}`);
            const out = r.stdout + r.stderr;
            assert.match(out, /lack of a privilege: permission denied for table/);
            assert.not.match(out, /internal error|Pw-secret-37|\n\s+at /);
            if (args.includes('--json')) assert.is(JSON.parse(r.stdout).error.code, 'PRIVILEGE');
          }
          assert.equal(await db.rows('SELECT version, checksum FROM glance_db_version ORDER BY version'), before);
        } finally {
          adminSql('postgresql', `DROP ROLE IF EXISTS ${role}`);
        }
      }),
  );

  s('--statement-timeout and --lock-timeout reach the migration transaction', () =>
    withDb(async (db) => {
      const dir = makeProject(
        extraVersion(NEXT, 'record_settings', { sqlite: 'SELECT 1;', postgresql: settingsSql, mysql: 'SELECT 1;' }),
      );
      try {
        const r = await runCli(['sync', '--url', db.url, '--statement-timeout', '300', '--lock-timeout', '7'], {
          cwd: dir,
        });
        assert.is(r.code, 0, r.stderr);
        assert.equal(await db.rows('SELECT st, lt FROM settings'), [{ st: '5min', lt: '7s' }]);
      } finally {
        removeProject(dir);
      }
    }),
  );

  s('a held migration lock makes a second run wait, then name the holder', () =>
    withDb(async (db) => {
      const [a, b] = lockKeys('glance_db_version');
      const dbName = new URL(db.url.replace(/^postgresql:/, 'http:')).pathname.slice(1);
      // The same lock in ANOTHER database of the server (advisory locks are per database): held first, never to be named.
      const other = await postgresEnv.create();
      const otherName = new URL(other.url.replace(/^postgresql:/, 'http:')).pathname.slice(1);
      const elsewhere = spawn(
        'psql',
        [
          '-X',
          ...clientArgs('postgresql'),
          '-d',
          otherName,
          '-c',
          `BEGIN; SET application_name = 'other-db-holder'; SELECT pg_advisory_xact_lock(${a}, ${b}); SELECT pg_sleep(30); COMMIT;`,
        ],
        { env: clientEnv('postgresql') },
      );
      const elsewhereClosed = new Promise((res) => elsewhere.on('close', res));
      const heldElsewhere = () =>
        adminSql(
          'postgresql',
          `SELECT CASE WHEN count(*) > 0 THEN 'HELD' ELSE 'FREE' END AS state FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'other-db-holder'`,
          otherName,
        ).includes('HELD');
      for (let i = 0; i < 300 && !heldElsewhere(); i++) await new Promise((res) => setTimeout(res, 100));
      const holder = spawn(
        'psql',
        [
          '-X',
          ...clientArgs('postgresql'),
          '-d',
          dbName,
          '-c',
          `BEGIN; SET application_name = 'lock-holder-test'; SELECT pg_advisory_xact_lock(${a}, ${b}); SELECT pg_sleep(30); COMMIT;`,
        ],
        { env: clientEnv('postgresql') },
      );
      const holderClosed = new Promise((res) => holder.on('close', res));
      // Wait until the holder really holds the lock (a loaded machine can take seconds to start psql).
      const held = () =>
        adminSql(
          'postgresql',
          `SELECT CASE WHEN count(*) > 0 THEN 'HELD' ELSE 'FREE' END AS state FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'lock-holder-test'`,
          dbName,
        ).includes('HELD');
      for (let i = 0; i < 300 && !held(); i++) await new Promise((res) => setTimeout(res, 100));
      assert.ok(held(), 'the test holder took the lock');
      const r = cli(['sync', '--url', db.url, '--lock-wait', '1']);
      assert.is(r.code, 8, r.stderr);
      assert.match(r.stderr, /held by server process \d+ \(lock-holder-test/, r.stderr);
      adminSql(
        'postgresql',
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name IN ('lock-holder-test', 'other-db-holder')`,
        dbName,
      );
      await elsewhereClosed;
      await other.drop();
      await holderClosed;
      const ok = cli(['sync', '--url', db.url, '--lock-wait', '10']);
      assert.is(ok.code, 0, ok.stderr);
    }),
  );

  s('oslo.db URL form from glance-api.conf', () =>
    withDb(async (db) => {
      const url = db.url.replace(/^postgresql:/, 'postgresql+psycopg2:');
      assert.is((await runCli(['sync', '44', '--url', url])).code, 0);
      assert.is((await runCli(['version', '--url', url])).stdout, '44\n');
    }),
  );

  s('--backup with the real pg_dump: the dump is 0600 in a new 0700 folder, whatever the umask', () =>
    withDb(async (db) => {
      const parent = mkdtempSync(join(tmpdir(), 'glance-db-backup-'));
      try {
        assert.is((await runCli(['sync', '45', '--url', db.url])).code, 0);
        const dir = join(parent, 'nested', 'backups');
        const r = await runCli(['sync', '--backup', '--backup-dir', dir, '--url', db.url]);
        assert.is(r.code, 0, r.stderr);
        const [file] = readdirSync(dir);
        assert.is(readFileSync(join(dir, file)).subarray(0, 5).toString(), 'PGDMP');
        assert.is(statSync(dir).mode & 0o777, 0o700);
        assert.is(statSync(join(dir, file)).mode & 0o777, 0o600);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    }),
  );

  s('--backup runs pg_dump with the password in PGPASSWORD, never on its command line', () =>
    withDb(async (db) => {
      const url = db.url.replace('://postgres@', '://postgres:Pw%40Backup9@');
      assert.is((await runCli(['sync', '45', '--url', url])).code, 0);
      const fake = fakeDumpTool('pg_dump', 'PGPASSWORD');
      try {
        const r = await runCli(['sync', '--backup', '--backup-dir', fake.bin, '--url', url], {
          env: { PATH: `${fake.bin}:${process.env.PATH}` },
        });
        assert.is(r.code, 0, r.stderr);
        const calls = fake.calls();
        assert.match(calls, /^ENV Pw@Backup9$/m);
        assert.not.match(calls.split('\n')[0], /Pw@Backup9|Pw%40Backup9/);
        assert.not.match(r.stdout + r.stderr, /Pw@Backup9|Pw%40Backup9/);
      } finally {
        fake.cleanup();
      }
    }),
  );
}

s(
  'connection errors: refused port, missing database, a server that is not PostgreSQL; bounded, password never shown',
  async () => {
    const closed = `127.0.0.1:${await closedPort()}`;
    const pg = `${serverParts('postgresql').user}:Pw%40Marker1@${serverAddress('postgresql')}`;
    const my = serverAddress('mysql');
    const quoted = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const cases: [string, RegExp][] = [
      [
        `postgresql://glance:Pw%40Marker1@${closed}/glance`,
        new RegExp(`Cannot use PostgreSQL database "glance" at ${quoted(closed)} as user "glance"`),
      ],
      ...(postgresEnv.available()
        ? ([[`postgresql://${pg}/glancedb_missing_db`, /database "glancedb_missing_db" does not exist/]] as [
            string,
            RegExp,
          ][])
        : []),
      [
        `postgresql://glance:Pw%40Marker1@${my}/glance`,
        new RegExp(`Cannot use PostgreSQL database "glance" at ${quoted(my)}`),
      ],
    ];
    for (const [url, msg] of cases) {
      const started = Date.now();
      const r = await runCli(['version', '--url', url, '--connect-timeout', '3']);
      assert.is(r.code, 9, `${url}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.ok(Date.now() - started < 15_000, 'bounded by --connect-timeout');
      assert.not.match(r.stdout + r.stderr, /Pw@Marker1|Pw%40Marker1/);
      assert.not.match(r.stderr, /\n\s+at /);
    }
  },
);

s.run();
