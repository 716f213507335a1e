// Operators' habits (issue 21, and issue 16 item 10): standard input,
// the default database, help and errors, JSON shapes, targets by release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, makeProject, removeProject, sqliteRows, LATEST } from './helpers.js';

function withProject(name: string, fn: (dir: string, db: string) => Promise<void> | void) {
  test(name, async () => {
    const dir = makeProject();
    try {
      await fn(dir, join(dir, 'glance.sqlite'));
    } finally {
      removeProject(dir);
    }
  });
}

const maxVersion = async (db: string) => (await sqliteRows(db, 'SELECT max(version) AS v FROM glance_db_version'))[0].v;

withProject('standard input is never read as VERSION: `echo 44 | glance-db sync` goes to the newest version', async (dir, db) => {
  const r = cli(['sync'], { cwd: dir, input: '44\n' });
  assert.is(r.code, 0, r.stderr);
  assert.is(await maxVersion(db), LATEST);
  const p = cli(['plan', '--dialect', 'sqlite'], { cwd: dir, input: '43\n' });
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`\\b${LATEST}\\b`));
});

withProject('a file on standard input is neither an argument nor echoed (it may hold a password)', async (dir, db) => {
  const secret = 'postgresql:/glance:Sup3rS3cret@db/glance\nsecond line S3condS3cret\n';
  for (const args of [['sync'], ['upgrade', String(LATEST)], ['downgrade'], ['version']]) {
    const r = cli(args, { cwd: dir, input: secret });
    assert.not.match(r.stdout + r.stderr, 'S3cret', `${args.join(' ')} echoed standard input`);
    assert.not.match(r.stdout + r.stderr, 'whole number', `${args.join(' ')} parsed standard input`);
  }
  assert.is(await maxVersion(db), LATEST);
});


/** An empty folder (no glance-db.yaml) with a fake ~/.glance-style search path. */
function withBareDir(name: string, fn: (dir: string, etc: string) => Promise<void> | void) {
  test(name, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-habits-'));
    const etc = join(dir, 'etc-glance');
    mkdirSync(etc);
    try {
      await fn(dir, etc);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
const bare = (etc: string) => ({ GLANCE_DB_GLANCE_CONFIG_DIRS: `${etc}/missing:${etc}` });

withBareDir('no --url, GLANCE_DB_URL, --glance-config, manifest or Glance config: refused (exit 3), no database made up', (dir, etc) => {
  for (const cmd of [['sync'], ['upgrade', String(LATEST)], ['version'], ['check'], ['verify'], ['plan']]) {
    const r = cli(cmd, { cwd: dir, env: bare(etc) });
    assert.is(r.code, 3, `${cmd.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: No database named: .*\nhint: Name the database: --url /);
    assert.not.match(r.stderr, /\n\s+at /);
  }
  const j = cli(['sync', '--json'], { cwd: dir, env: bare(etc) });
  assert.is(JSON.parse(j.stdout).error.code, 'CONFIG');
  assert.equal(readdirSync(dir), ['etc-glance'], 'nothing created');
  // Offline commands need no database.
  assert.is(cli(['plan', '--dialect', 'sqlite'], { cwd: dir, env: bare(etc) }).code, 0);
  assert.is(cli(['lint'], { cwd: dir, env: bare(etc) }).code, 0);
});

withBareDir("Glance's default config files name the database, glance-manage.conf over glance-api.conf, as glance-manage reads them", async (dir, etc) => {
  const api = join(dir, 'api.sqlite');
  const manage = join(dir, 'manage.sqlite');
  writeFileSync(join(etc, 'glance-api.conf'), `[DEFAULT]\ndebug = false\n[database]\nconnection = sqlite:///${api}\n`);
  let r = cli(['sync', '45'], { cwd: dir, env: bare(etc) });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, `(from ${join(etc, 'glance-api.conf')})`);
  assert.is(await maxVersion(api), 45);
  writeFileSync(join(etc, 'glance-manage.conf'), `[database]\nconnection = sqlite:///${manage}\n`);
  r = cli(['sync', '44'], { cwd: dir, env: bare(etc) });
  assert.is(r.code, 0, r.stderr);
  assert.is(await maxVersion(manage), 44);
  // A glance-db.yaml in the working directory still wins over Glance's defaults (the quick start).
  const project = makeProject();
  try {
    assert.is(cli(['sync', '43'], { cwd: project, env: bare(etc) }).code, 0);
    assert.is(await maxVersion(join(project, 'glance.sqlite')), 43);
  } finally {
    removeProject(project);
  }
  // Glance's config sets no connection: refused, naming the file.
  rmSync(join(etc, 'glance-manage.conf'));
  writeFileSync(join(etc, 'glance-api.conf'), '[DEFAULT]\ndebug = true\n');
  r = cli(['version'], { cwd: dir, env: bare(etc) });
  assert.is(r.code, 3);
  assert.match(r.stderr, `Glance's config (${join(etc, 'glance-api.conf')}) sets no [database] connection`);
});

withBareDir('--glance-config takes several files and folders in oslo.config order, and the deprecated [DEFAULT] sql_connection', async (dir) => {
  const db = (n: string) => join(dir, `${n}.sqlite`);
  const conf = (name: string, body: string) => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
    return join(dir, name);
  };
  const a = conf('a.conf', `[database]\nconnection = sqlite:///${db('a')}\n`);
  conf('d/20-b.conf', `[database]\nconnection = sqlite:///${db('b')}\n`);
  conf('d/10-c.conf', `[database]\nconnection = sqlite:///${db('c')}\n`);
  conf('d/30-notes.txt', `[database]\nconnection = sqlite:///${db('txt')}\n`);
  const old = conf('old.conf', `[DEFAULT]\nsql_connection = sqlite:///${db('old')}\n`);
  const none = conf('none.conf', '[database]\nmax_pool_size = 5\n');
  const run = (...configs: string[]) => {
    const r = cli(['sync', '43', ...configs.flatMap((c) => ['--glance-config', c])], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    return r;
  };
  run(a, join(dir, 'd')); // the folder's last *.conf (20-b) wins over a.conf
  assert.ok(existsSync(db('b')));
  assert.not.ok(existsSync(db('a')) || existsSync(db('c')) || existsSync(db('txt')));
  run(join(dir, 'd'), a, none); // a.conf comes later; none.conf sets nothing
  assert.ok(existsSync(db('a')));
  const r = run(old);
  assert.match(r.stdout, 'sql_connection (deprecated)');
  assert.ok(existsSync(db('old')));
  rmSync(db('a'));
  run(a, old); // the current name anywhere wins over the deprecated one
  assert.ok(existsSync(db('a')));
  // VERSION after a --glance-config is VERSION, not another file.
  const v = cli(['sync', '--glance-config', a, '45'], { cwd: dir });
  assert.is(v.code, 0, v.stderr);
  assert.is(await maxVersion(db('a')), 45);
  const missing = cli(['version', '--glance-config', none, '--glance-config', join(dir, 'empty-folder-missing')], { cwd: dir });
  assert.is(missing.code, 3);
  const nothing = cli(['version', '--glance-config', none], { cwd: dir });
  assert.is(nothing.code, 3);
  assert.match(nothing.stderr, 'has no [database] connection setting (nor the deprecated [DEFAULT] sql_connection)');
});

test.run();
