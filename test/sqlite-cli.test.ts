// The built CLI end to end on the embedded SQLite default.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import {
  existsSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  appendFileSync,
  mkdtempSync,
  rmSync,
  statSync,
} from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreSteps } from '../src/app/restore.js';
import { resolveContext } from '../src/cli/context.js';
import { suggest } from '../src/core/run-context.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import {
  cleanEnv,
  cli,
  cliAsync,
  makeProject,
  extraVersion,
  openSqlite,
  referenceSql,
  removeProject,
  sqliteRows,
  BIN,
  FIRST,
  LATEST,
  LATEST_LABEL,
  NEXT,
  ROOT,
  VERSIONS,
  runCli,
} from './helpers.js';
import { holdFlock } from './flock-holder.js';

const TOOL_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const noStack = (r: { stderr: string }) => assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');

function withProject(
  name: string,
  overrides: Record<string, string | null>,
  fn: (dir: string, db: string) => Promise<void> | void,
) {
  test(name, async () => {
    const dir = makeProject(overrides);
    try {
      await fn(dir, join(dir, 'glance.sqlite'));
    } finally {
      removeProject(dir);
    }
  });
}

withProject(
  'sync creates the file and reaches the newest version; version prints only the integer; sync again says so',
  {},
  async (dir, db) => {
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /applied 42 liberty_baseline \(\d+ ms\)/);
    assert.match(r.stdout, `applied ${LATEST_LABEL}`);
    assert.match(r.stdout, `database is at version ${LATEST}`);
    const v = await runCli(['version'], { cwd: dir });
    assert.is(v.code, 0);
    assert.is(v.stdout, `${LATEST}\n`);
    const again = await runCli(['sync'], { cwd: dir });
    assert.is(again.code, 0);
    assert.match(again.stdout, `already at version ${LATEST}; nothing to do`);
    const rows = await sqliteRows(
      db,
      'SELECT version, name, dialect, checksum, kind, status, applied_at, execution_ms, tool_version FROM glance_db_version ORDER BY version',
    );
    assert.equal(
      rows.map((r) => r.version),
      VERSIONS,
    );
    for (const row of rows) {
      assert.is(row.kind, 'applied');
      assert.is(row.status, 'complete');
      assert.is(row.dialect, 'sqlite');
      assert.match(String(row.checksum), /^sha256-lf:[0-9a-f]{64}$/);
      assert.match(String(row.applied_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.is(row.tool_version, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    }
    assert.not.ok(existsSync(`${db}.lock`), 'lock released');
  },
);

withProject('the same commands work under "db", with VERSION', {}, async (dir) => {
  assert.is((await runCli(['db', 'sync', '45'], { cwd: dir })).code, 0);
  assert.is((await runCli(['db', 'version'], { cwd: dir })).stdout, '45\n');
  const up = await runCli(['db', 'upgrade', '48'], { cwd: dir });
  assert.is(up.code, 0, up.stderr);
  assert.match(up.stdout, /applied 46 .*\n.*applied 47 .*\n.*applied 48/);
  assert.is((await runCli(['db', 'version'], { cwd: dir })).stdout, '48\n');
});

withProject('the result opens in the sqlite3 CLI and in Python', {}, async (dir, db) => {
  assert.is((await runCli(['sync'], { cwd: dir })).code, 0);
  const s = spawnSync('sqlite3', [db, 'PRAGMA integrity_check; SELECT max(version) FROM glance_db_version;'], {
    encoding: 'utf8',
  });
  assert.is(s.stdout, `ok\n${LATEST}\n`, s.stderr);
  const py = spawnSync(
    'python3',
    [
      '-c',
      'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select count(*) from images").fetchone()[0], c.execute("pragma integrity_check").fetchone()[0])',
      db,
    ],
    { encoding: 'utf8' },
  );
  assert.is(py.stdout, '0 ok\n', py.stderr);
});

withProject('version and upgrade on a missing database: exit 5, no file created', {}, async (dir, db) => {
  const v = await runCli(['version'], { cwd: dir });
  assert.is(v.code, 5);
  assert.match(v.stderr, 'is not under glance-db version control');
  assert.match(v.stderr, 'glance-db sync');
  noStack(v);
  const u = await runCli(['upgrade', String(LATEST)], { cwd: dir });
  assert.is(u.code, 5);
  assert.not.ok(existsSync(db));
});

withProject(
  'a database with tables but no version table is not guessed at: exit 5 and unchanged',
  {},
  async (dir, db) => {
    const ref = await openSqlite();
    ref.exec(referenceSql(44, 'sqlite'));
    writeFileSync(db, ref.export());
    const before = sha(db);
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 5, r.stderr);
    // 44 only changes data: its schema is 43's, and the hint names 43 so that 44's data step runs.
    assert.match(r.stderr, 'their schema is exactly that of version 43');
    assert.match(r.stderr, `glance-db sync ${LATEST} 43 (records 42-43`);
    assert.is(sha(db), before);
    assert.is((await runCli(['version'], { cwd: dir })).code, 5);
  },
);

withProject(
  'the hint for a database without bookkeeping names the lowest version with its schema, and carries --url shell-quoted',
  {},
  async (dir) => {
    const other = mkdtempSync(join(tmpdir(), "glance-db-it's-"));
    try {
      const file = join(other, "it's glance.sqlite");
      const ref = await openSqlite();
      ref.exec(referenceSql(48, 'sqlite'));
      writeFileSync(file, ref.export());
      const r = await runCli(['sync', '--url', `sqlite:${file}`], { cwd: dir });
      assert.is(r.code, 5, r.stderr);
      const hint = /run: (glance-db sync .*) \(records/.exec(r.stderr)?.[1];
      assert.is(
        hint,
        `glance-db sync ${LATEST} 48 --url 'sqlite:${other.replace(/'/g, "'\\''")}/it'\\''s glance.sqlite'`,
      );
      // Pasted as it is, it places that database (not ./glance.sqlite) and runs 49's data step.
      const pasted = spawnSync(
        'sh',
        ['-c', hint!.replace(/^glance-db/, `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`)],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.is(pasted.status, 0, pasted.stderr);
      assert.match(pasted.stdout, 'applied 49 location_backend_to_store');
      assert.not.ok(existsSync(join(dir, 'glance.sqlite')));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  },
);

withProject(
  'suggested commands carry the --config/--url/--glance-config that selected the database, never a password',
  {},
  async (dir) => {
    const other = join(dir, 'elsewhere.sqlite');
    assert.is((await runCli(['sync', '45', '--url', `sqlite:${other}`], { cwd: dir })).code, 0);
    const d = await runCli(['downgrade', '--url', `sqlite:${other}`], { cwd: dir });
    assert.is(d.code, 6);
    assert.match(d.stdout, `Check the level: glance-db version --url sqlite:${other}`);
    const base = { lockWait: 1, connectTimeout: 1, statementTimeout: 0, lockTimeout: 0 };
    const manifest = join(dir, 'glance-db.yaml');
    assert.equal(
      resolveContext({ ...base, config: manifest, url: 'mysql+pymysql://glance:Top@S3cret@db/glance?charset=utf8' })
        .selection,
      ['--config', manifest, '--url', "'mysql+pymysql://glance@db/glance?charset=utf8'"],
    );
    const conf = join(dir, 'glance api.conf');
    writeFileSync(conf, '[database]\nconnection = postgresql://glance:TopS3cret@db/glance\n');
    const ctx = resolveContext({ ...base, config: manifest, glanceConfig: [conf] });
    assert.equal(ctx.selection, ['--config', manifest, '--glance-config', `'${conf}'`]);
    assert.not.match(suggest(ctx, 'version'), 'TopS3cret');
  },
);

withProject('sync VERSION CURRENT_VERSION records a baseline and upgrades from there', {}, async (dir, db) => {
  const ref = await openSqlite();
  ref.exec(referenceSql(44, 'sqlite'));
  writeFileSync(db, ref.export());
  const r = await runCli(['sync', String(LATEST), '44'], { cwd: dir });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'baseline: recorded versions 42-44 as already applied (nothing run)');
  assert.not.match(r.stdout, 'applied 44');
  assert.match(r.stdout, 'applied 45 add_visibility');
  const rows = await sqliteRows(db, 'SELECT version, kind FROM glance_db_version ORDER BY version');
  assert.equal(
    rows.map((x) => `${x.version}:${x.kind}`),
    VERSIONS.map((v) => `${v}:${v <= 44 ? 'baseline' : 'applied'}`),
  );
  const wrong = await runCli(['sync', String(LATEST), '43'], { cwd: dir });
  assert.is(wrong.code, 2);
  assert.match(wrong.stderr, `CURRENT_VERSION 43 contradicts the version table, which records version ${LATEST}`);
});

withProject('bad arguments: not an integer, unknown version, CURRENT_VERSION above VERSION', {}, async (dir, db) => {
  for (const [args, msg] of [
    [['sync', 'abc'], 'VERSION must be a whole number'],
    [['sync', '45.5'], 'VERSION must be a whole number'],
    [['sync', '99'], `VERSION 99 is not a version glance-db knows; known versions are ${FIRST} to ${LATEST}`],
    [['sync', '45', '47'], 'CURRENT_VERSION 47 is above VERSION 45'],
    [['upgrade'], 'glance-db upgrade needs VERSION'],
    [['sync', '--lock-wait', 'soon'], '--lock-wait must be a whole number of seconds from 0 to 2147483, not "soon"'],
  ] as [string[], string][]) {
    const r = await runCli(args, { cwd: dir });
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    noStack(r);
  }
  assert.not.ok(existsSync(db));
});

withProject('downgrade changes nothing, exits 6 and prints restore steps', {}, async (dir, db) => {
  assert.is((await runCli(['sync'], { cwd: dir })).code, 0);
  const before = sha(db);
  for (const args of [['downgrade'], ['downgrade', '45'], ['db', 'downgrade', '44']]) {
    const r = await runCli(args, { cwd: dir });
    assert.is(r.code, 6, r.stderr);
    assert.match(r.stderr, /downgrades are not supported/i);
    assert.match(r.stdout, `cp /path/to/backup-taken-before-the-upgrade.sqlite ${db}`);
  }
  const below = await runCli(['sync', '45'], { cwd: dir });
  assert.is(below.code, 6);
  assert.match(below.stderr, `Version 45 is below the database's version ${LATEST}`);
  assert.is(sha(db), before);
});

test('downgrade restore steps for servers name host, user and database, never the password', () => {
  const pg = restoreSteps(
    parseDatabaseUrl('postgresql://glance:TopS3cret@db1:5433/glance', '/'),
    '/etc/glance-db.yaml',
  ).join('\n');
  assert.match(pg, 'pg_restore -h db1 -p 5433 -U glance -d glance');
  const my = restoreSteps(
    parseDatabaseUrl('mysql+pymysql://glance:TopS3cret@db2/glance?charset=utf8', '/'),
    '/etc/glance-db.yaml',
  ).join('\n');
  assert.match(my, 'mysql -h db2 -P 3306 -u glance -p glance < BACKUP.sql');
  for (const text of [pg, my]) assert.not.match(text, 'TopS3cret');
});

withProject('checksum mismatch stops everything and names version, file and both checksums', {}, async (dir, db) => {
  assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
  const before = sha(db);
  appendFileSync(join(dir, 'sql/sqlite/043_add_image_created_updated_idx.sql'), '\n-- edited after release\n');
  const r = await runCli(['sync'], { cwd: dir });
  assert.is(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    /Checksum mismatch for version 43: sql\/sqlite\/043_add_image_created_updated_idx\.sql was applied with checksum sha256-lf:[0-9a-f]{64}, but the file on disk now has sha256-lf:[0-9a-f]{64}/,
  );
  assert.match(r.stderr, 'hint: A released migration must never be edited');
  assert.is(sha(db), before);
  const j = JSON.parse((await runCli(['sync', '--json'], { cwd: dir })).stdout);
  assert.equal([j.ok, j.error.code, j.error.exitCode, j.error.version], [false, 'CHECKSUM_MISMATCH', 4, 43]);
});

withProject('a CRLF checkout of the same files is not a checksum mismatch', {}, async (dir) => {
  assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
  const f = join(dir, 'sql/sqlite/044_update_metadef_os_nova_server.sql');
  writeFileSync(f, `\uFEFF${readFileSync(f, 'utf8').replace(/\n/g, '\r\n')}`);
  const r = await runCli(['sync'], { cwd: dir });
  assert.is(r.code, 0, r.stderr);
});

const brokenSql =
  '-- fails on purpose\nCREATE TABLE ok_table (id INTEGER);\n\n  INSERT INTO no_such_table VALUES (1);\n';
withProject(
  'a failing statement names file:line:column and leaves the database at the previous version',
  extraVersion(NEXT, 'broken', brokenSql),
  async (dir, db) => {
    assert.is((await runCli(['sync', String(LATEST)], { cwd: dir })).code, 0);
    const before = sha(db);
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 7, r.stderr);
    assert.match(
      r.stderr,
      `Version ${NEXT} failed at sql/sqlite/${NEXT}_broken.sql:4:3 (statement 2): no such table: no_such_table`,
    );
    assert.match(r.stderr, 'Statement: INSERT INTO no_such_table VALUES (1)');
    noStack(r);
    assert.is(sha(db), before);
    assert.is((await runCli(['version'], { cwd: dir })).stdout, `${LATEST}\n`);
    assert.equal(await sqliteRows(db, "SELECT name FROM sqlite_master WHERE name = 'ok_table'"), []);
  },
);

withProject(
  'a failing version: the versions committed before it are written back, the failing one is not',
  extraVersion(NEXT, 'broken', brokenSql),
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    const r = await runCli(['sync'], { cwd: dir });
    assert.is(r.code, 7, r.stderr);
    assert.is((await runCli(['version'], { cwd: dir })).stdout, `${LATEST}\n`);
    assert.equal(await sqliteRows(db, "SELECT name FROM sqlite_master WHERE name = 'ok_table'"), []);
    assert.is(spawnSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).stdout, 'ok\n');
  },
);

withProject(
  'a run moves the file once, from the version it had to the version reached; kill -9 at the write-back leaves it as it was',
  {},
  async (dir, db) => {
    assert.is((await runCli(['sync', '44'], { cwd: dir })).code, 0);
    // About 20 MB, so that the run lasts long enough to be watched.
    // Rows in a Glance table, not a table of its own: sync refuses a schema with an extra table as drift.
    const ballast = spawnSync('sqlite3', [
      db,
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO images (id, name, status, is_public, created_at, deleted, min_disk, min_ram, protected) SELECT printf('img-%05d', i), hex(randomblob(500)), 'active', 1, '2020-01-01 00:00:00', 0, 0, 0, 0 FROM n;",
    ]);
    assert.is(ballast.status, 0);
    const base = readFileSync(db);
    const watch = async (onTemp: (child: ReturnType<typeof spawn>) => void) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), 'sync'], {
        cwd: dir,
        stdio: 'ignore',
        env: cleanEnv(),
      });
      const inodes = new Set([statSync(db).ino]);
      let exited = false;
      child.once('exit', () => (exited = true));
      while (!exited) {
        try {
          inodes.add(statSync(db).ino);
        } catch {
          // Between unlink and rename nothing is missing: rename is atomic. Never reached.
        }
        if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) onTemp(child);
        await new Promise((r) => setTimeout(r, 1));
      }
      inodes.add(statSync(db).ino);
      return inodes.size;
    };
    assert.is(await watch(() => {}), 2, 'the file was replaced once');
    assert.is((await runCli(['version'], { cwd: dir })).stdout, `${LATEST}\n`);
    writeFileSync(db, base);
    await watch((child) => child.kill('SIGKILL'));
    // Killed while writing its temporary file: as before the run (or, had the rename won the race, whole at the newest).
    const after = readFileSync(db);
    assert.ok(
      after.equals(base) || (await runCli(['version'], { cwd: dir })).stdout === `${LATEST}\n`,
      'the file is as before the run or as after it, never between',
    );
    const again = await runCli(['sync'], { cwd: dir });
    assert.is(again.code, 0, again.stderr);
    assert.equal(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'the temporary file of the killed run was removed',
    );
  },
);

withProject(
  '--url and GLANCE_DB_URL override the manifest; relative paths are relative to the working directory',
  {},
  async (dir) => {
    const other = mkdtempSync(join(tmpdir(), 'glance-db-url-'));
    try {
      assert.is(
        (
          await runCli(['sync', '43', '--config', join(dir, 'glance-db.yaml'), '--url', 'sqlite:a.sqlite'], {
            cwd: other,
          })
        ).code,
        0,
      );
      assert.ok(existsSync(join(other, 'a.sqlite')));
      assert.is(
        (
          await runCli(['sync', '44', '--config', join(dir, 'glance-db.yaml')], {
            cwd: other,
            env: { GLANCE_DB_URL: `sqlite:///b.sqlite` },
          })
        ).code,
        0,
      );
      assert.is(
        (
          await runCli(
            ['version', '--config', join(dir, 'glance-db.yaml'), '--url', `sqlite:${join(other, 'b.sqlite')}`],
            {
              cwd: other,
            },
          )
        ).stdout,
        '44\n',
      );
      assert.not.ok(existsSync(join(dir, 'glance.sqlite')));
    } finally {
      removeProject(other);
    }
  },
);

withProject('--json gives one object on stdout for sync and version', {}, async (dir, db) => {
  const s = JSON.parse((await runCli(['sync', '43', '--json'], { cwd: dir })).stdout);
  assert.equal(
    { ...s, applied: s.applied.map((a: { version: number }) => a.version) },
    {
      command: 'sync',
      glanceDbVersion: TOOL_VERSION,
      ok: true,
      dialect: 'sqlite',
      database: `sqlite:${db}`,
      from: null,
      to: 43,
      applied: [42, 43],
      baselined: [],
      adopted: [],
      upToDate: false,
    },
  );
  const v = JSON.parse((await runCli(['version', '--json'], { cwd: dir })).stdout);
  assert.equal(v, {
    command: 'version',
    glanceDbVersion: TOOL_VERSION,
    ok: true,
    version: 43,
    managedBy: 'glance-db',
    source: 'glance_db_version',
    dialect: 'sqlite',
    database: `sqlite:${db}`,
  });
  const e = JSON.parse(
    (await runCli(['version', '--json', '--url', 'sqlite:/nonexistent-dir/x.sqlite'], { cwd: dir })).stdout,
  );
  assert.is(e.ok, false);
});

withProject(
  'a second process is kept out by a live lock and a lock file left by a dead one is no obstacle',
  {},
  async (dir, db) => {
    // The lock is an OS lock (flock) on FILE.lock, as another glance-db run holds it.
    const holder = await holdFlock(`${db}.lock`);
    writeFileSync(
      `${db}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }),
    );
    try {
      const r = cli(['sync', '--lock-wait', '1'], { cwd: dir });
      assert.is(r.code, 8, r.stderr);
      assert.match(r.stderr, `is locked by glance-db process ${process.pid}`);
      assert.not.ok(existsSync(db));
    } finally {
      await holder.release();
    }
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${db}.lock`, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), startedAt: 'earlier' }));
    const ok = cli(['sync', '--lock-wait', '1'], { cwd: dir });
    assert.is(ok.code, 0, ok.stderr);
    assert.not.ok(existsSync(`${db}.lock`));
  },
);

withProject('two syncs at once: both succeed and every version is applied exactly once', {}, async (dir, db) => {
  const [a, b] = await Promise.all([cliAsync(['sync'], { cwd: dir }), cliAsync(['sync'], { cwd: dir })]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  const applied = (a.stdout + b.stdout).match(/applied \d+ /g) ?? [];
  assert.is(applied.length, VERSIONS.length, a.stdout + b.stdout);
  const rows = await sqliteRows(db, 'SELECT count(*) AS n FROM glance_db_version');
  assert.is(rows[0].n, VERSIONS.length);
});

withProject('on SQLite, neither slonik nor mysql2 is ever loaded', {}, async (dir) => {
  assert.is((await runCli(['sync'], { cwd: dir })).code, 0);
  const log = join(dir, 'imports.log');
  for (const args of [['version'], ['sync']]) {
    const r = spawnSync(
      process.execPath,
      ['--import', join(ROOT, 'test/fixtures/record-imports.mjs'), join(ROOT, 'bin/run.js'), ...args],
      { cwd: dir, env: { ...cleanEnv(), GLANCE_DB_IMPORT_LOG: log }, encoding: 'utf8' },
    );
    assert.is(r.status, 0, r.stderr);
  }
  const loaded = readFileSync(log, 'utf8');
  // The CLI runs the bundle (scripts/bundle.mjs), where each driver, with its
  // client library, is a chunk named after its file (src/dialects/<name>/driver.ts:
  // driver-HASH.js); the loaded ones are told apart by the driver class they hold.
  const drivers = [...loaded.matchAll(/\/dist\/bundle\/driver-[A-Z0-9]+\.js/g)].map((m) =>
    readFileSync(join(ROOT, m[0]), 'utf8'),
  );
  assert.ok(
    drivers.some((text) => /\bSqliteDriver\b/.test(text)),
    'the SQLite driver is loaded',
  );
  assert.not.match(loaded, /node_modules\/(slonik|mysql2|@slonik)\//);
  assert.ok(!drivers.some((text) => /\b(PostgresDriver|MysqlDriver)\b/.test(text)), 'no server driver is loaded');
});

test('unknown command and --help', async () => {
  const help = await runCli(['--help']);
  assert.is(help.code, 0);
  for (const c of ['sync', 'version', 'upgrade', 'downgrade']) assert.match(help.stdout, c);
  const bad = await runCli(['frobnicate']);
  assert.is.not(bad.code, 0);
  noStack(bad);
});

withProject('a SQLite file too large to hold in memory is refused clearly and left as it was', {}, async (dir, db) => {
  // A sparse file: the header of a SQLite file, then nothing up to one byte past the 4 GiB glance-db holds in memory
  // (sql.js is 32-bit WebAssembly; Node 22+ would allow a larger Buffer, so the limit is glance-db's own, not Node's).
  writeFileSync(db, 'SQLite format 3\0');
  const size = 4 * 1024 ** 3 + 1;
  spawnSync('truncate', ['-s', String(size), db]);
  const before = statSync(db);
  for (const args of [['version'], ['sync']]) {
    const r = await runCli(args, { cwd: dir });
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /is 4\.00 GiB: the embedded SQLite engine \(sql\.js\) holds the whole file in memory/);
    assert.match(r.stderr, 'Nothing was changed.');
    noStack(r);
  }
  const after = statSync(db);
  assert.equal([after.size, after.mtimeMs], [before.size, before.mtimeMs]);
});

test.run();

withProject(
  'a table or index named with a double quote is read, not an internal error: verify and check name it as drift',
  {},
  async (dir, db) => {
    assert.is((await runCli(['sync'], { cwd: dir })).code, 0);
    const sqlite = await openSqlite(db);
    sqlite.run('CREATE TABLE "we""ird" (id INTEGER PRIMARY KEY, "na""me" TEXT)');
    sqlite.run('CREATE INDEX "ix""q" ON "we""ird" ("na""me")');
    writeFileSync(db, sqlite.export());
    for (const args of [['verify'], ['check']]) {
      const r = await runCli(args, { cwd: dir });
      assert.not.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
      noStack(r);
      assert.match(r.stdout + r.stderr, 'we"ird');
    }
    assert.is((await runCli(['check'], { cwd: dir })).code, 12);
  },
);
