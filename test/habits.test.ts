// Operators' habits (issue 21, and issue 16 item 10): standard input,
// the default database, help and errors, JSON shapes, targets by release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ExitCode } from '../src/errors.js';
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


// ---- help, unknown commands, parse errors (issue 21 item 3)

const oneParagraph = (r: { stderr: string; stdout: string }) => {
  assert.match(r.stderr, /^error: [^\n]+\nhint: [^\n]+\n$/, r.stderr);
  assert.not.match(r.stderr, /›|COMMAND --help|\n\s+at |See more help|allows multiple values/);
  assert.is(r.stdout, '');
};

test('glance-db help, help sync and help db sync show help (exit 0); top help names the db topic; every help lists the exit codes', () => {
  const top = cli(['help']);
  assert.is(top.code, 0, top.stderr);
  assert.match(top.stdout, /TOPICS\n\s+db\s+The same commands under the name glance-manage users know/);
  for (const r of [top, cli(['help', 'sync']), cli(['help', 'db', 'sync']), cli(['sync', '--help']), cli(['--help'])]) {
    assert.is(r.code, 0, r.stderr);
    for (const [name, code] of Object.entries(ExitCode)) assert.match(r.stdout, new RegExp(`\\n  ${code} +\\S`), `exit code ${code} (${name}) listed`);
  }
  assert.match(cli(['help', 'sync']).stdout, '$ glance-db sync [VERSION] [CURRENT_VERSION]');
  assert.match(cli(['help', 'db', 'upgrade']).stdout, '$ glance-db db upgrade VERSION');
  const unknown = cli(['help', 'synx']);
  assert.is(unknown.code, 2);
  oneParagraph(unknown);
  assert.match(unknown.stderr, 'Did you mean glance-db sync?');
});

test('a mistyped command gets a suggestion, one error/hint paragraph, exit 2, and JSON under --json', () => {
  for (const [args, suggestion] of [[['synx'], 'glance-db sync'], [['verison'], 'glance-db version'], [['db', 'upgarde'], 'glance-db db upgrade'], [['chek'], 'glance-db check']] as const) {
    const r = cli([...args]);
    assert.is(r.code, 2, args.join(' '));
    oneParagraph(r);
    assert.match(r.stderr, `Did you mean ${suggestion}?`);
    const j = cli([...args, '--json']);
    assert.is(j.code, 2);
    const o = JSON.parse(j.stdout);
    assert.is(o.ok, false);
    assert.is(o.error.code, 'USAGE');
    assert.is(o.error.exitCode, 2);
    assert.match(o.error.hint, `Did you mean ${suggestion}?`);
    assert.is(j.stderr, '');
  }
  // What cannot be a command name is never echoed (a pasted URL with its password).
  const pasted = cli(['postgresql://glance:Pa55word@db/glance']);
  assert.is(pasted.code, 2);
  oneParagraph(pasted);
  assert.not.match(pasted.stderr, 'Pa55word');
});

test('extra words, missing and unexpected arguments, unknown flags: a sentence naming the command, exit 2, JSON under --json', () => {
  const extra = cli(['version', 'extra', 'args']);
  assert.is(extra.code, 2);
  oneParagraph(extra);
  assert.match(extra.stderr, 'error: glance-db version takes no arguments: "extra args".');
  const missing = cli(['db', 'upgrade']);
  assert.is(missing.code, 2);
  oneParagraph(missing);
  assert.match(missing.stderr, 'glance-db upgrade needs VERSION');
  assert.match(missing.stderr, 'glance-db help upgrade');
  const many = cli(['upgrade', '48', '49']);
  assert.is(many.code, 2);
  oneParagraph(many);
  const flag = cli(['sync', '--bogus']);
  assert.is(flag.code, 2);
  oneParagraph(flag);
  assert.match(flag.stderr, 'glance-db sync has no flag --bogus');
  const badInt = cli(['sync', '--lock-wait', 'abc']);
  assert.is(badInt.code, 2);
  oneParagraph(badInt);
  for (const args of [['version', 'extra', 'args'], ['db', 'upgrade'], ['sync', '--bogus'], ['upgrade', '48', '49']]) {
    const j = cli([...args, '--json']);
    assert.is(j.code, 2, args.join(' '));
    assert.is(JSON.parse(j.stdout).error.code, 'USAGE');
  }
  const noCommand = cli(['--json']);
  assert.is(noCommand.code, 2);
  assert.match(JSON.parse(noCommand.stdout).error.message, 'No command given');
});


test('glance-db completion bash: a script that completes commands, the db topic, flags and flag options', () => {
  const r = cli(['completion', 'bash']);
  assert.is(r.code, 0, r.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-completion-'));
  try {
    writeFileSync(join(dir, 'c.bash'), r.stdout);
    const complete = (...words: string[]) => {
      const script = `source ${join(dir, 'c.bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _glance_db; echo "\${COMPREPLY[*]}"`;
      const res = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: dir });
      assert.is(res.stderr, '');
      return res.stdout.trim();
    };
    assert.is(complete('glance-db', 'sy'), 'sync');
    assert.is(complete('glance-db', 'd'), 'db downgrade');
    assert.is(complete('glance-db', 'db', 'up'), 'upgrade');
    assert.is(complete('glance-db', 'plan', '--dia'), '--dialect');
    assert.is(complete('glance-db', 'plan', '--dialect', 'p'), 'postgresql');
    assert.is(complete('glance-db', 'db', 'sync', '--back'), '--backup --backup-dir');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = cli(['completion', 'fish']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /^error: No completion for the shell "fish"/);
});

test.run();
