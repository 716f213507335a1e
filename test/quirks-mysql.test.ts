// MySQL/MariaDB-only behaviour: per-statement progress and resume, the lock
// row, oslo.db URLs with a unix socket, and connection errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, readFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diffSchemas } from '../src/core/introspect/diff.js';
import { mysqlEnv, withDb as withEnvDb, type TestDb } from './dialects.js';
import { cli, extraVersion, LATEST, makeProject, NEXT, removeProject, runCli } from './helpers.js';
import { fakeDumpTool } from './helpers.js';
import { adminSql, clientArgs, clientEnv, closedPort, serverAddress, serverParts, serverUrl } from './servers.js';

const s = suite('quirks: mysql');
const IGNORE = { ignoreTables: ['alembic_version', 'glance_db_version', 'glance_db_version_lock'] };

const withDb = (fn: (db: TestDb, name: string) => Promise<void>) =>
  withEnvDb(mysqlEnv, (db) => fn(db, new URL(db.url.replace(/^mysql:/, 'http:')).pathname.slice(1)));

if (mysqlEnv.available()) {
  s('a user without privileges gets exit 37 naming the refusal, not an internal error, and nothing changes', () =>
    withDb(async (db, name) => {
      assert.is((await runCli(['sync', '--url', db.url])).code, 0);
      const user = `gdb_ro_${Math.random().toString(16).slice(2, 10)}`;
      const hosts = ["'%'", "'localhost'"];
      for (const h of hosts)
        adminSql(
          'mysql',
          `CREATE USER ${user}@${h} IDENTIFIED BY 'Pw-secret-37'; GRANT SELECT ON ${name}.glance_db_version_lock TO ${user}@${h};`,
        );
      try {
        const url = new URL(db.url);
        url.username = user;
        url.password = 'Pw-secret-37';
        const before = await db.rows('SELECT version, checksum FROM glance_db_version ORDER BY version');
        for (const h of hosts) adminSql('mysql', `GRANT SELECT ON ${name}.images TO ${user}@${h};`);
        for (const args of [['sync'], ['sync', '--json'], ['check'], ['version'], ['history']]) {
          const r = await runCli([...args, '--url', url.href]);
          assert.is(r.code, 37, `${args.join(' ')}: ${r.stderr}`);
          const out = r.stdout + r.stderr;
          assert.match(out, /lack of a privilege: \w+ command denied to user/);
          assert.not.match(out, /internal error|Pw-secret-37|\n\s+at /);
        }
        assert.equal(await db.rows('SELECT version, checksum FROM glance_db_version ORDER BY version'), before);
      } finally {
        for (const h of hosts) adminSql('mysql', `DROP USER IF EXISTS ${user}@${h}`);
      }
    }),
  );

  // A version a site added whose second statement fails on the data (two images with one name), not on
  // the schema: a hand-made table that a pending version creates is refused by --accept-drift (issue 32.10).
  const TWO_STEPS = extraVersion(
    NEXT,
    'two_steps',
    'CREATE TABLE site_names (id INT NOT NULL PRIMARY KEY);\n\nALTER TABLE images ADD UNIQUE INDEX uq_images_name (name);\n',
  );
  const sameName = `INSERT INTO images (id, name, status, created_at, deleted, min_disk, min_ram, protected, visibility) VALUES
    ('twin-1', 'twin', 'active', '2020-01-01 00:00:00', 0, 0, 0, 0, 'private'), ('twin-2', 'twin', 'active', '2020-01-01 00:00:00', 0, 0, 0, 0, 'private')`;

  s(
    'a statement failing mid-file is recorded; after the fix, sync resumes there and ends at the reference schema',
    () =>
      withDb(async (db) => {
        const dir = makeProject(TWO_STEPS);
        try {
          assert.is((await runCli(['sync', String(LATEST), '--url', db.url], { cwd: dir })).code, 0);
          await db.exec(sameName);
          const r = await runCli(['sync', '--url', db.url], { cwd: dir });
          assert.is(r.code, 7, r.stderr);
          assert.match(
            r.stderr,
            new RegExp(`Version ${NEXT} failed at sql/mysql/${NEXT}_two_steps\\.sql:\\d+:\\d+ \\(statement 2\\)`),
          );
          assert.match(r.stderr, 'it resumes at statement 2');
          const [row] = await db.rows(
            `SELECT status, statements_applied, error FROM glance_db_version WHERE version = ${NEXT}`,
          );
          assert.equal([row.status, Number(row.statements_applied)], ['failed', 1]);
          assert.match(String(row.error), 'uq_images_name');
          assert.is((await runCli(['version', '--url', db.url], { cwd: dir })).stdout, `${LATEST}\n`);
          await db.exec("DELETE FROM images WHERE id = 'twin-2'");
          const resumed = await runCli(['sync', '--url', db.url], { cwd: dir });
          assert.is(resumed.code, 0, resumed.stderr);
          assert.match(resumed.stdout, `applied ${NEXT} two_steps`);
          const [done] = await db.rows(
            `SELECT status, statements_applied, statements_total FROM glance_db_version WHERE version = ${NEXT}`,
          );
          assert.is(done.status, 'complete');
          assert.is(Number(done.statements_applied), Number(done.statements_total));
          const expected = await mysqlEnv.create();
          try {
            await expected.loadReference(LATEST);
            assert.equal(diffSchemas(await expected.model(), await db.model(), IGNORE), [
              'images: unexpected unique constraint uq_images_name(name)',
              'unexpected table site_names',
            ]);
          } finally {
            await expected.drop();
          }
        } finally {
          removeProject(dir);
        }
      }),
  );

  s('resume is refused when a statement that already ran has changed', () =>
    withDb(async (db) => {
      const dir = makeProject(TWO_STEPS);
      try {
        assert.is((await runCli(['sync', String(LATEST), '--url', db.url], { cwd: dir })).code, 0);
        await db.exec(sameName);
        assert.is((await runCli(['sync', '--url', db.url], { cwd: dir })).code, 7);
        const f = join(dir, `sql/mysql/${NEXT}_two_steps.sql`);
        writeFileSync(f, readFileSync(f, 'utf8').replace(/site_names/, 'site_namez'));
        const r = await runCli(['sync', '--url', db.url], { cwd: dir });
        assert.is(r.code, 4, r.stderr);
        assert.match(r.stderr, `statement 1 of sql/mysql/${NEXT}_two_steps.sql has changed since it ran`);
      } finally {
        removeProject(dir);
      }
    }),
  );

  s('lock row: a live holder makes the run wait and name it; a dead holder is taken over at once', () =>
    withDb(async (db, name) => {
      assert.is((await runCli(['sync', '43', '--url', db.url])).code, 0);
      const live = `INSERT INTO glance_db_version_lock (id, owner, server, db_user, connection_id, acquired_at, heartbeat_at) VALUES (1, 'test holder', CONCAT(@@hostname, ':', @@port), CURRENT_USER(), CONNECTION_ID(), UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)); SELECT SLEEP(60); DELETE FROM glance_db_version_lock;`;
      const { spawn } = await import('node:child_process');
      const holder = spawn('mariadb', [...clientArgs('mysql'), name, '-e', live], { env: clientEnv('mysql') });
      // Until the holder's row is there (a loaded machine can take seconds to start the client); it holds for
      // up to a minute and is killed once the run has named it, so a slow start of the run cannot outlast it.
      const holds = async () =>
        (await db.rows("SELECT owner FROM glance_db_version_lock WHERE owner = 'test holder'")).length > 0;
      for (let i = 0; i < 300 && !(await holds()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await holds(), 'the test holder took the lock row');
      const r = cli(['sync', '--url', db.url, '--lock-wait', '1']);
      assert.is(r.code, 8, r.stderr);
      assert.match(r.stderr, /held by test holder \(server .*, connection \d+/);
      holder.kill('SIGKILL');
      await new Promise((res) => holder.on('close', res));
      adminSql(
        'mysql',
        `DELETE FROM glance_db_version_lock; INSERT INTO glance_db_version_lock (id, owner, server, db_user, connection_id, acquired_at, heartbeat_at) VALUES (1, 'dead holder', CONCAT(@@hostname, ':', @@port), CURRENT_USER(), 987654321, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));`,
        name,
      );
      const ok = cli(['sync', '--url', db.url, '--lock-wait', '2']);
      assert.is(ok.code, 0, ok.stderr);
      assert.equal(await db.rows('SELECT * FROM glance_db_version_lock'), []);
    }),
  );

  s('a holder on another Galera node is trusted until its heartbeat is older than the lease', () =>
    withDb(async (db, name) => {
      assert.is((await runCli(['sync', '43', '--url', db.url])).code, 0);
      adminSql(
        'mysql',
        `INSERT INTO glance_db_version_lock (id, owner, server, db_user, connection_id, acquired_at, heartbeat_at) VALUES (1, 'other node', 'node2:3306', 'glance@%', 5, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));`,
        name,
      );
      assert.is(cli(['sync', '--url', db.url, '--lock-wait', '1']).code, 8);
      adminSql('mysql', `UPDATE glance_db_version_lock SET heartbeat_at = UTC_TIMESTAMP(3) - INTERVAL 5 MINUTE;`, name);
      const ok = cli(['sync', '--url', db.url, '--lock-wait', '1']);
      assert.is(ok.code, 0, ok.stderr);
    }),
  );

  s('oslo.db URL with charset and unix_socket', () =>
    withDb(async (db, name) => {
      const socket = adminSql('mysql', 'SELECT @@socket').split('\n')[1].trim();
      const url = `mysql+pymysql://${serverParts('mysql').user}@localhost/${name}?charset=utf8&unix_socket=${socket}`;
      const r = await runCli(['sync', '45', '--url', url]);
      assert.is(r.code, 0, r.stderr);
      assert.is((await runCli(['version', '--url', url])).stdout, '45\n');
    }),
  );

  s('--backup with the real mariadb-dump: the dump is 0600 in a new 0700 folder, whatever the umask', () =>
    withDb(async (db) => {
      const parent = mkdtempSync(join(tmpdir(), 'glance-db-backup-'));
      try {
        assert.is((await runCli(['sync', '45', '--url', db.url])).code, 0);
        const dir = join(parent, 'nested', 'backups');
        const r = await runCli(['sync', '--backup', '--backup-dir', dir, '--url', db.url]);
        assert.is(r.code, 0, r.stderr);
        const [file] = readdirSync(dir);
        assert.match(readFileSync(join(dir, file), 'utf8'), 'CREATE TABLE `images`');
        assert.is(statSync(dir).mode & 0o777, 0o700);
        assert.is(statSync(join(dir, file)).mode & 0o777, 0o600);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    }),
  );

  s('a lock holder from an older glance-db (lock table without a token column) is still seen and waited for', () =>
    withDb(async (db, name) => {
      assert.is((await runCli(['sync', '43', '--url', db.url])).code, 0);
      adminSql(
        'mysql',
        `DROP TABLE glance_db_version_lock; CREATE TABLE glance_db_version_lock (id INTEGER NOT NULL PRIMARY KEY, owner VARCHAR(255) NOT NULL, server VARCHAR(255) NOT NULL, db_user VARCHAR(255) NOT NULL, connection_id BIGINT NOT NULL, acquired_at DATETIME(3) NOT NULL, heartbeat_at DATETIME(3) NOT NULL) ENGINE=InnoDB; INSERT INTO glance_db_version_lock VALUES (1, 'old glance-db', 'node2:3306', 'glance@%', 5, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));`,
        name,
      );
      const r = cli(['sync', '--url', db.url, '--lock-wait', '1']);
      assert.is(r.code, 8, r.stderr);
      assert.match(r.stderr, 'held by old glance-db');
      adminSql('mysql', 'DELETE FROM glance_db_version_lock', name);
      const ok = cli(['sync', '--url', db.url]);
      assert.is(ok.code, 0, ok.stderr);
    }),
  );

  s('--backup runs mariadb-dump with the password in MYSQL_PWD, never on its command line', () =>
    withDb(async (db, name) => {
      const user = `gdb_${name.slice(-8)}`;
      adminSql(
        'mysql',
        `CREATE USER '${user}'@'%' IDENTIFIED BY 'Pw@Backup9'; CREATE USER '${user}'@'localhost' IDENTIFIED BY 'Pw@Backup9'; GRANT ALL ON ${name}.* TO '${user}'@'%'; GRANT ALL ON ${name}.* TO '${user}'@'localhost';`,
      );
      const url = db.url.replace('://root@', `://${user}:Pw%40Backup9@`);
      const fake = fakeDumpTool('mariadb-dump', 'MYSQL_PWD');
      try {
        assert.is((await runCli(['sync', '45', '--url', url])).code, 0);
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
        adminSql('mysql', `DROP USER '${user}'@'%'; DROP USER '${user}'@'localhost';`);
      }
    }),
  );
}

s(
  'connection errors: refused port, wrong password, missing database, a server that is not MySQL; password never shown',
  async () => {
    const closed = `127.0.0.1:${await closedPort()}`;
    const pg = serverAddress('postgresql');
    const quoted = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const cases: [string, RegExp][] = [
      [
        `mysql://glance:Pw%40Marker2@${closed}/glance`,
        new RegExp(`Cannot use MySQL database "glance" at ${quoted(closed)} as user "glance"`),
      ],
      ...(mysqlEnv.available()
        ? ([
            [`mysql://nosuchuser:Pw%40Marker2@${serverAddress('mysql')}/test`, /Access denied/],
            [serverUrl('mysql', 'glancedb_missing_db'), /Unknown database 'glancedb_missing_db'/],
            [
              `mysql://glance:Pw%40Marker2@${pg}/glance`,
              new RegExp(`Cannot use MySQL database "glance" at ${quoted(pg)}`),
            ],
          ] as [string, RegExp][])
        : []),
    ];
    for (const [url, msg] of cases) {
      const started = Date.now();
      const r = await runCli(['version', '--url', url, '--connect-timeout', '3']);
      assert.is(r.code, 9, `${url}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.ok(Date.now() - started < 15_000, 'bounded by --connect-timeout');
      assert.not.match(r.stdout + r.stderr, /Pw@Marker2|Pw%40Marker2/);
    }
  },
);

s.run();
