// TLS for real (issue 27 item 6): a PostgreSQL and a MariaDB that speak TLS
// with a throwaway CA (scripts/tls-servers.sh; .ci/run starts them and
// exports GLANCE_DB_TEST_TLS_*), and the machine's plain-text servers as the
// "server without TLS". Host-name checks connect and refuse as asked; a
// wrong CA or host name is exit 9 with a clear error; TLS asked of a server
// without it is refused, never plain text; client certificates authenticate;
// and on the server, every connection of a run that asked for TLS used it
// (the server's log or counters for all of them; pg_stat_ssl and Ssl_cipher
// for the live migration session). The backup tools connect the same way.
// With GLANCE_DB_REQUIRE_TLS=1 (CI) missing TLS servers fail the suite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, VERSIONS, type CliResult } from './helpers.js';
import { adminSql, serverAvailable, serverUrl } from './servers.js';
import { lockKeys } from '../src/dialects/postgresql/lock.js';

const T = (k: string) => process.env[`GLANCE_DB_TEST_TLS_${k}`] ?? '';
const REQUIRED = process.env.GLANCE_DB_REQUIRE_TLS === '1';
const CA = T('CA');
const WRONG_CA = T('WRONG_CA');
const CERT = T('CLIENT_CERT');
const KEY = T('CLIENT_KEY');
const HOST = T('HOST');
const WRONG_HOST = T('WRONG_HOST');
const PW = T('PASSWORD');
const PG_PORT = T('PG_PORT');
const MY_PORT = T('MYSQL_PORT');

function pgAdmin(sql: string, db = 'postgres') {
  return spawnSync(
    'psql',
    [
      '-X',
      '-q',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      T('PG_SOCKET'),
      '-p',
      PG_PORT,
      '-U',
      'postgres',
      '-d',
      db,
      '-c',
      sql,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
}
function myAdmin(sql: string) {
  // Plain text over the socket (--skip-ssl): the TLS counters then count glance-db's connections alone.
  return spawnSync(
    'mariadb',
    ['--no-defaults', '--skip-ssl', '-S', T('MYSQL_SOCKET'), '-u', 'root', '-N', '-B', '-e', sql],
    { encoding: 'utf8', timeout: 60_000 },
  );
}
const out = (r: { status: number | null; stdout: string; stderr: string }, what: string): string => {
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr}`);
  return r.stdout.trim();
};

function missing(): string | null {
  const unset = [
    'DIR',
    'CA',
    'WRONG_CA',
    'CLIENT_CERT',
    'CLIENT_KEY',
    'HOST',
    'WRONG_HOST',
    'PG_PORT',
    'MYSQL_PORT',
    'PASSWORD',
    'PG_SOCKET',
    'MYSQL_SOCKET',
  ].filter((k) => !T(k));
  if (unset.length)
    return `GLANCE_DB_TEST_TLS_${unset.join(', GLANCE_DB_TEST_TLS_')} not set: run scripts/tls-servers.sh start, then eval "$(scripts/tls-servers.sh env)"`;
  const pg = pgAdmin('SHOW ssl');
  if (pg.status !== 0 || pg.stdout.trim() !== 'on')
    return `the TLS PostgreSQL (socket ${T('PG_SOCKET')}, port ${PG_PORT}) does not answer or has no TLS: ${pg.stderr || pg.stdout}`;
  const my = myAdmin('SELECT @@have_ssl');
  if (my.status !== 0 || my.stdout.trim() !== 'YES')
    return `the TLS MariaDB (socket ${T('MYSQL_SOCKET')}) does not answer or has no TLS: ${my.stderr || my.stdout}`;
  return null;
}

const why = missing();
if (why) {
  if (REQUIRED) test('the TLS test servers are there (GLANCE_DB_REQUIRE_TLS=1)', () => assert.unreachable(why));
  else console.log(`\n*** SKIP: TLS tests: ${why} (set GLANCE_DB_REQUIRE_TLS=1 to make this a failure) ***\n`);
} else {
  suite();
}
test.run();

function suite(): void {
  const dbs: { dialect: 'postgresql' | 'mysql'; name: string }[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'glance-db-tls-'));

  function newDb(dialect: 'postgresql' | 'mysql'): string {
    const name = `gdb_tls_${randomBytes(4).toString('hex')}`;
    if (dialect === 'postgresql') out(pgAdmin(`CREATE DATABASE ${name} OWNER glance_tls`), 'createdb');
    else out(myAdmin(`CREATE DATABASE ${name} CHARACTER SET utf8`), 'create database');
    dbs.push({ dialect, name });
    return name;
  }

  const pgUrl = (db: string, q: string, user = 'glance_tls', host = HOST) =>
    `postgresql://${user}${user === 'glance_cert' ? '' : `:${PW}`}@${host}:${PG_PORT}/${db}?${q}`;
  const myUrl = (db: string, q: string, user = 'glance_tls', host = HOST) =>
    `mysql+pymysql://${user}${user === 'glance_cert' ? '' : `:${PW}`}@${host}:${MY_PORT}/${db}?${q}`;
  const FULL = `sslmode=verify-full&sslrootcert=${CA}`;
  // The client key again, encrypted with a password (sslpassword, ssl_key_password).
  const KEY_PW = 'K3yPassw0rdMark';
  const ENC_KEY = join(tmp, 'client-enc.key');
  out(
    spawnSync('openssl', ['pkey', '-in', KEY, '-aes256', '-passout', `pass:${KEY_PW}`, '-out', ENC_KEY], {
      encoding: 'utf8',
    }),
    'openssl pkey',
  );
  chmodSync(ENC_KEY, 0o600);
  const IDENTITY = `ssl_ca=${CA}&ssl_verify_identity=true`;

  /** The run's result, with the password checked absent from everything it printed. */
  function run(args: string[], expected: number, what: string): CliResult {
    const r = cli(args);
    assert.not.match(r.stdout + r.stderr, PW, `${what}: the password was printed`);
    assert.not.match(r.stdout + r.stderr, KEY_PW, `${what}: the key's password was printed`);
    assert.is(r.code, expected, `${what}: exit ${r.code}, expected ${expected}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** The PostgreSQL log's "connection authorized" lines for a database (and user): each says whether TLS was used. */
  function pgConnections(db: string, user?: string): string[] {
    const log = readFileSync(join(T('DIR'), 'pg', 'postgres.log'), 'utf8');
    return log
      .split('\n')
      .filter(
        (l) =>
          l.includes('connection authorized:') &&
          l.includes(` database=${db} `) &&
          (!user || l.includes(` user=${user} `)),
      );
  }

  function myCounters(): { connections: number; tls: number } {
    const rows = out(myAdmin("SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Ssl_accepts')"), 'status');
    const v = Object.fromEntries(rows.split('\n').map((l) => l.split('\t')));
    return { connections: Number(v.Connections), tls: Number(v.Ssl_accepts) };
  }

  async function waitFor<X>(what: string, probe: () => X | null | undefined, limitMs = 60_000): Promise<X> {
    const until = Date.now() + limitMs;
    for (;;) {
      const got = probe();
      if (got) return got;
      if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // ------------------------------------------------------------ PostgreSQL

  let pgDb = '';

  test('PostgreSQL verify-full connects by host name and by IP address, and every connection of the run used TLS', () => {
    pgDb = newDb('postgresql');
    run(['sync', '--url', pgUrl(pgDb, FULL, 'glance_any')], 0, 'sync with verify-full');
    // The tests below read this database as the TLS-only user.
    out(pgAdmin('GRANT SELECT ON ALL TABLES IN SCHEMA public TO glance_tls', pgDb), 'grant');
    run(
      ['check', '--url', pgUrl(pgDb, FULL, 'glance_any', '127.0.0.1')],
      0,
      'verify-full to the IP address the certificate names',
    );
    // glance_any may connect without TLS too: the server's log says what each connection used.
    const lines = pgConnections(pgDb, 'glance_any');
    assert.ok(lines.length >= 3, `the runs' connections are in the log:\n${lines.join('\n')}`);
    for (const l of lines) assert.match(l, /SSL enabled \(protocol=TLSv1\.[23]/, `a connection without TLS: ${l}`);
  });

  test('PostgreSQL: pg_stat_ssl shows the live migration session encrypted', async () => {
    const db = newDb('postgresql');
    const [a, b] = lockKeys('glance_db_version');
    // An admin session holds the migration lock: the run waits for it, its session open on the server.
    const holder = spawn(
      'psql',
      [
        '-X',
        '-q',
        '-h',
        T('PG_SOCKET'),
        '-p',
        PG_PORT,
        '-U',
        'postgres',
        '-d',
        db,
        '-c',
        `SELECT pg_advisory_lock(${a}, ${b})`,
        '-c',
        'SELECT pg_sleep(300)',
      ],
      { stdio: 'ignore' },
    );
    try {
      await waitFor(
        'the admin lock',
        () =>
          pgAdmin(
            `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${a} AND objid = ${b}`,
            db,
          ).stdout.trim() === '1',
      );
      const running = cliAsync(['sync', '--lock-wait', '120', '--url', pgUrl(db, FULL, 'glance_any')]);
      const pid = await waitFor('the run waiting for the lock', () =>
        pgAdmin(
          `SELECT pid FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'glance-db' AND wait_event_type = 'Lock'`,
          db,
        ).stdout.trim(),
      );
      const ssl = out(pgAdmin(`SELECT ssl, version FROM pg_stat_ssl WHERE pid = ${pid}`), 'pg_stat_ssl');
      assert.match(ssl, /^t\|TLSv1\.[23]$/, `pg_stat_ssl of the migration session: ${ssl}`);
      out(
        pgAdmin(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND application_name = 'psql'`,
        ),
        'terminate',
      );
      const r = await running;
      assert.is(r.code, 0, r.stderr);
    } finally {
      holder.kill();
    }
  });

  test('PostgreSQL: a wrong CA is exit 9 with a clear error', () => {
    const r = run(['check', '--url', pgUrl(pgDb, `sslmode=verify-full&sslrootcert=${WRONG_CA}`)], 9, 'wrong CA');
    assert.match(r.stderr, 'does not verify against');
    assert.match(r.stderr, WRONG_CA);
    run(
      ['check', '--url', pgUrl(pgDb, `sslmode=require&sslrootcert=${WRONG_CA}`)],
      9,
      'require with a root certificate verifies the chain (libpq)',
    );
  });

  test('PostgreSQL: a host name the certificate does not hold is exit 9 with verify-full; verify-ca does not check it', () => {
    const r = run(['check', '--url', pgUrl(pgDb, FULL, 'glance_tls', WRONG_HOST)], 9, 'wrong host');
    assert.match(r.stderr, 'does not name the host');
    assert.match(r.stderr, WRONG_HOST);
    run(
      ['check', '--url', pgUrl(pgDb, `sslmode=verify-ca&sslrootcert=${CA}`, 'glance_tls', WRONG_HOST)],
      0,
      'verify-ca to an address the certificate does not name',
    );
  });

  test('PostgreSQL: TLS asked of a server without it fails; prefer falls back to plain text', () => {
    if (!serverAvailable('postgresql')) return;
    assert.match(
      adminSql('postgresql', 'SHOW ssl'),
      /^\s*off\s*$/m,
      "the machine's PostgreSQL is the server without TLS here",
    );
    for (const mode of ['require', 'verify-ca', 'verify-full']) {
      const r = run(
        ['version', '--url', `${serverUrl('postgresql', 'postgres')}?sslmode=${mode}&sslrootcert=${CA}`],
        9,
        `sslmode=${mode} against plain text`,
      );
      assert.match(r.stderr, 'does not offer TLS');
    }
    run(
      ['version', '--url', `${serverUrl('postgresql', 'postgres')}?sslmode=prefer`],
      5,
      'prefer connects in plain text (then: not under version control)',
    );
  });

  test('PostgreSQL: sslmode=disable is plain text (the TLS-only user is refused); allow then uses TLS', () => {
    const r = run(['check', '--url', pgUrl(pgDb, 'sslmode=disable')], 9, 'disable');
    assert.match(r.stderr, 'no encryption');
    run(['check', '--url', pgUrl(pgDb, 'sslmode=allow')], 0, 'allow');
  });

  test('PostgreSQL: client-certificate authentication, and the backup (pg_dump) with the same certificate', () => {
    const db = newDb('postgresql');
    const q = `${FULL}&sslcert=${CERT}&sslkey=${KEY}`;
    run(['sync', String(VERSIONS[0]), '--url', pgUrl(db, q, 'glance_cert')], 0, 'sync with a client certificate');
    const dir = join(tmp, 'pg-backup');
    run(
      ['sync', '--backup', '--backup-dir', dir, '--url', pgUrl(db, q, 'glance_cert')],
      0,
      'sync --backup with a client certificate',
    );
    assert.is(readdirSync(dir).filter((f) => f.endsWith('.dump')).length, 1, 'one backup');
    assert.ok(
      pgConnections(db).some((l) => / user=glance_cert .*application_name=pg_dump SSL enabled/.test(l)),
      'pg_dump connected with TLS and the certificate',
    );
    const r = run(['check', '--url', pgUrl(db, FULL, 'glance_cert')], 9, 'no client certificate');
    assert.match(r.stderr, /certificate/i);
    run(
      ['check', '--url', pgUrl(db, `${FULL}&sslcert=${CERT}&sslkey=${ENC_KEY}&sslpassword=${KEY_PW}`, 'glance_cert')],
      0,
      'an encrypted key and its sslpassword',
    );
    assert.match(
      run(
        [
          'check',
          '--url',
          pgUrl(db, `${FULL}&sslcert=${CERT}&sslkey=${ENC_KEY}&sslpassword=wrong${KEY_PW}`, 'glance_cert'),
        ],
        3,
        'a wrong sslpassword',
      ).stderr,
      'cannot be decrypted with the sslpassword given',
    );
    const b = run(
      [
        'sync',
        '--backup',
        '--url',
        pgUrl(db, `${FULL}&sslcert=${CERT}&sslkey=${ENC_KEY}&sslpassword=${KEY_PW}`, 'glance_cert'),
      ],
      3,
      '--backup with sslpassword',
    );
    assert.match(b.stderr, 'sslpassword');
  });

  test('PostgreSQL: a parameter glance-db cannot honour is refused before connecting; an unknown one is a warning', () => {
    const db = `gdb_tls_${randomBytes(4).toString('hex')}`;
    const r = run(['check', '--url', pgUrl(db, `${FULL}&sslcrldir=/etc/ssl/crl`)], 3, 'sslcrldir');
    assert.match(r.stderr, 'sslcrldir');
    assert.equal(pgConnections(db), [], 'no connection was made');
    const w = run(['check', '--url', pgUrl(pgDb, `${FULL}&frobnicate=1`)], 0, 'an unknown parameter');
    assert.match(w.stderr, /warning: .*"frobnicate"/);
  });

  // ------------------------------------------------------------ MySQL

  let myDb = '';

  test('MySQL ssl_verify_identity connects by host name and by IP address, and every connection of the run used TLS', () => {
    myDb = newDb('mysql');
    const before = myCounters();
    run(['sync', '--url', myUrl(myDb, IDENTITY, 'glance_any')], 0, 'sync with ssl_verify_identity');
    const after = myCounters();
    // Connections counts the run's and the one that read the counters afterwards (plain, over the socket); Ssl_accepts the run's TLS handshakes.
    const runs = after.connections - before.connections - 1;
    assert.ok(runs >= 2, `the run's connections (the migration's and the lock's): ${runs}`);
    assert.is(after.tls - before.tls, runs, 'every connection of the run used TLS');
    run(
      ['check', '--url', myUrl(myDb, IDENTITY, 'glance_any', '127.0.0.1')],
      0,
      'ssl_verify_identity to the IP address the certificate names',
    );
  });

  test('MySQL: Ssl_cipher of the live migration session', async () => {
    const db = newDb('mysql');
    // A global read lock: the run's first write waits, its session open on the server.
    const holder = spawn(
      'mariadb',
      [
        '--no-defaults',
        '--skip-ssl',
        '-S',
        T('MYSQL_SOCKET'),
        '-u',
        'root',
        '-e',
        'FLUSH TABLES WITH READ LOCK; SELECT SLEEP(300) AS glance_db_tls_holder',
      ],
      { stdio: 'ignore' },
    );
    try {
      const holderId = await waitFor('the read lock', () =>
        myAdmin(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%glance_db_tls_holder%' AND INFO NOT LIKE '%PROCESSLIST%'",
        ).stdout.trim(),
      );
      const running = cliAsync(['sync', '--url', myUrl(db, IDENTITY, 'glance_any')]);
      await waitFor('the run waiting for the read lock', () =>
        myAdmin(
          `SELECT 1 FROM information_schema.PROCESSLIST WHERE USER = 'glance_any' AND DB = '${db}' AND STATE LIKE '%lock%'`,
        ).stdout.trim(),
      );
      const sessions = out(
        myAdmin(`SELECT t.PROCESSLIST_ID, s.VARIABLE_VALUE FROM performance_schema.threads t JOIN performance_schema.status_by_thread s USING (THREAD_ID)
        WHERE t.PROCESSLIST_USER = 'glance_any' AND s.VARIABLE_NAME = 'Ssl_cipher'`),
        'Ssl_cipher',
      )
        .split('\n')
        .map((l) => l.split('\t'));
      assert.ok(sessions.length >= 1, 'the run has sessions');
      for (const [id, cipher] of sessions) assert.ok(cipher, `session ${id} of the run has no Ssl_cipher: plain text`);
      out(myAdmin(`KILL ${holderId}`), 'kill the holder');
      const r = await running;
      assert.is(r.code, 0, r.stderr);
    } finally {
      holder.kill();
    }
  });

  test('MySQL: a wrong CA is exit 9 with a clear error', () => {
    const r = run(['check', '--url', myUrl(myDb, `ssl_ca=${WRONG_CA}&ssl_verify_cert=true`)], 9, 'wrong CA');
    assert.match(r.stderr, 'does not verify against');
    assert.match(r.stderr, WRONG_CA);
  });

  test('MySQL: ssl_verify_identity refuses an IP address the certificate does not hold (mysql2 checked "localhost" instead); ssl_verify_cert checks the chain only', () => {
    const r = run(['check', '--url', myUrl(myDb, IDENTITY, 'glance_tls', WRONG_HOST)], 9, 'wrong host');
    assert.match(r.stderr, 'does not name the host');
    assert.match(r.stderr, WRONG_HOST);
    run(
      ['check', '--url', myUrl(myDb, `ssl_mode=VERIFY_IDENTITY&ssl_ca=${CA}`, 'glance_tls', WRONG_HOST)],
      9,
      'ssl_mode=VERIFY_IDENTITY, wrong host',
    );
    run(
      ['check', '--url', myUrl(myDb, `ssl_ca=${CA}&ssl_verify_cert=true`, 'glance_tls', WRONG_HOST)],
      0,
      'ssl_verify_cert to an address the certificate does not name',
    );
  });

  test('MySQL: TLS asked of a server without it fails; PREFERRED falls back to plain text', () => {
    if (!serverAvailable('mysql')) return;
    for (const q of [
      'ssl_mode=REQUIRED',
      `ssl_ca=${CA}&ssl_verify_cert=true`,
      'ssl=true',
      `ssl_mode=VERIFY_IDENTITY&ssl_ca=${CA}`,
    ]) {
      const r = run(['version', '--url', `${serverUrl('mysql', 'mysql')}?${q}`], 9, `${q} against plain text`);
      assert.match(r.stderr, 'does not offer TLS');
    }
    run(
      ['version', '--url', `${serverUrl('mysql', 'mysql')}?ssl_mode=PREFERRED`],
      5,
      'PREFERRED connects in plain text (then: not under version control)',
    );
  });

  test('MySQL: no TLS parameter is plain text (the REQUIRE SSL user is refused)', () => {
    run(['check', '--url', myUrl(myDb, '')], 9, 'no TLS');
  });

  test('MySQL: client-certificate authentication (REQUIRE X509), and the backup (mariadb-dump) with the same certificate', () => {
    const db = newDb('mysql');
    const q = `${IDENTITY}&ssl_cert=${CERT}&ssl_key=${KEY}`;
    run(['sync', String(VERSIONS[0]), '--url', myUrl(db, q, 'glance_cert')], 0, 'sync with a client certificate');
    const dir = join(tmp, 'mysql-backup');
    run(
      ['sync', '--backup', '--backup-dir', dir, '--url', myUrl(db, q, 'glance_cert')],
      0,
      'sync --backup with a client certificate',
    );
    assert.is(readdirSync(dir).filter((f) => f.endsWith('.sql')).length, 1, 'one backup');
    run(['check', '--url', myUrl(db, IDENTITY, 'glance_cert')], 9, 'no client certificate');
    run(
      [
        'check',
        '--url',
        myUrl(db, `${IDENTITY}&ssl_cert=${CERT}&ssl_key=${ENC_KEY}&ssl_key_password=${KEY_PW}`, 'glance_cert'),
      ],
      0,
      'an encrypted key and its ssl_key_password',
    );
    assert.match(
      run(
        [
          'check',
          '--url',
          myUrl(db, `${IDENTITY}&ssl_cert=${CERT}&ssl_key=${ENC_KEY}&ssl_key_password=wrong${KEY_PW}`, 'glance_cert'),
        ],
        3,
        'a wrong ssl_key_password',
      ).stderr,
      'ssl_key_password',
    );
  });

  test('MySQL: a parameter glance-db cannot honour is refused before connecting; an unknown one is a warning', () => {
    const before = myCounters();
    const r = run(['check', '--url', myUrl(myDb, `${IDENTITY}&ssl_crlpath=/etc/ssl/crl`)], 3, 'ssl_crlpath');
    assert.match(r.stderr, 'ssl_crlpath');
    assert.is(myCounters().connections - before.connections, 1, "no connection was made (only the counters' own)");
    const w = run(
      ['check', '--url', myUrl(myDb, `${IDENTITY}&charset=utf8&plugin=dbcounter&frobnicate=1`)],
      0,
      'an unknown parameter',
    );
    assert.match(w.stderr, /warning: .*"frobnicate"/);
    assert.not.match(w.stderr, /charset|dbcounter/);
  });

  test.after(() => {
    for (const { dialect, name } of dbs) {
      if (dialect === 'postgresql') pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      else myAdmin(`DROP DATABASE IF EXISTS ${name}`);
    }
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  });
}
