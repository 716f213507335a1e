// Operators' habits (issue 21, and issue 16 item 10): standard input,
// the default database, help and errors, JSON shapes, targets by release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { ProgressReporter } from '../src/cli/progress.js';
import { mysqlEnv, postgresEnv, sqliteEnv, withDb } from './dialects.js';
import { loadSqlFile } from './servers.js';
import { join } from 'node:path';
import { ExitCode } from '../src/platform/errors.js';
import {
  assertJsonOutput,
  cleanEnv,
  cli,
  cliAsync,
  extraVersion,
  makeProject,
  openSqlite,
  removeProject,
  sqliteRows,
  BIN,
  LATEST,
  NEWEST_RELEASE,
  PREVIOUS,
  ROOT,
  VERSIONS,
  runCli,
} from './helpers.js';
import { GLANCE_RELEASES, releaseLabel, schemaChangeNote } from '../src/glance/releases.js';

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

withProject(
  'standard input is never read as VERSION: `echo 44 | glance-db sync` goes to the newest version',
  async (dir, db) => {
    const r = await runCli(['sync'], { cwd: dir, input: '44\n' });
    assert.is(r.code, 0, r.stderr);
    assert.is(await maxVersion(db), LATEST);
    const p = await runCli(['plan', '--dialect', 'sqlite'], { cwd: dir, input: '43\n' });
    assert.is(p.code, 0, p.stderr);
    assert.match(p.stdout, new RegExp(`\\b${LATEST}\\b`));
  },
);

withProject('a file on standard input is neither an argument nor echoed (it may hold a password)', async (dir, db) => {
  const secret = 'postgresql:/glance:Sup3rS3cret@db/glance\nsecond line S3condS3cret\n';
  for (const args of [['sync'], ['upgrade', String(LATEST)], ['downgrade'], ['version']]) {
    const r = await runCli(args, { cwd: dir, input: secret });
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

withBareDir(
  'no --url, GLANCE_DB_URL, --glance-config, manifest or Glance config: refused (exit 3), no database made up',
  async (dir, etc) => {
    for (const cmd of [['sync'], ['upgrade', String(LATEST)], ['version'], ['check'], ['verify'], ['plan']]) {
      const r = await runCli(cmd, { cwd: dir, env: bare(etc) });
      assert.is(r.code, 3, `${cmd.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: No database named: .*\nhint: Name the database: --url /);
      assert.not.match(r.stderr, /\n\s+at /);
    }
    const j = await runCli(['sync', '--json'], { cwd: dir, env: bare(etc) });
    assert.is(JSON.parse(j.stdout).error.code, 'CONFIG');
    assert.equal(readdirSync(dir), ['etc-glance'], 'nothing created');
    // Offline commands need no database.
    assert.is((await runCli(['plan', '--dialect', 'sqlite'], { cwd: dir, env: bare(etc) })).code, 0);
    assert.is((await runCli(['lint'], { cwd: dir, env: bare(etc) })).code, 0);
  },
);

withBareDir(
  "Glance's default config files name the database, glance-manage.conf over glance-api.conf, as glance-manage reads them",
  async (dir, etc) => {
    const api = join(dir, 'api.sqlite');
    const manage = join(dir, 'manage.sqlite');
    writeFileSync(
      join(etc, 'glance-api.conf'),
      `[DEFAULT]\ndebug = false\n[database]\nconnection = sqlite:///${api}\n`,
    );
    let r = await runCli(['sync', '45'], { cwd: dir, env: bare(etc) });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, `(from ${join(etc, 'glance-api.conf')})`);
    assert.is(await maxVersion(api), 45);
    writeFileSync(join(etc, 'glance-manage.conf'), `[database]\nconnection = sqlite:///${manage}\n`);
    r = await runCli(['sync', '44'], { cwd: dir, env: bare(etc) });
    assert.is(r.code, 0, r.stderr);
    assert.is(await maxVersion(manage), 44);
    // A glance-db.yaml in the working directory still wins over Glance's defaults (the quick start).
    const project = makeProject();
    try {
      assert.is((await runCli(['sync', '43'], { cwd: project, env: bare(etc) })).code, 0);
      assert.is(await maxVersion(join(project, 'glance.sqlite')), 43);
    } finally {
      removeProject(project);
    }
    // Glance's config sets no connection: refused, naming the file.
    rmSync(join(etc, 'glance-manage.conf'));
    writeFileSync(join(etc, 'glance-api.conf'), '[DEFAULT]\ndebug = true\n');
    r = await runCli(['version'], { cwd: dir, env: bare(etc) });
    assert.is(r.code, 3);
    assert.match(r.stderr, `Glance's config (${join(etc, 'glance-api.conf')}) sets no [database] connection`);
  },
);

withBareDir(
  '--glance-config takes several files and folders in oslo.config order, and the deprecated [DEFAULT] sql_connection',
  async (dir) => {
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
    const run = async (...configs: string[]) => {
      const r = await runCli(['sync', '43', ...configs.flatMap((c) => ['--glance-config', c])], { cwd: dir });
      assert.is(r.code, 0, r.stderr);
      return r;
    };
    await run(a, join(dir, 'd')); // the folder's last *.conf (20-b) wins over a.conf
    assert.ok(existsSync(db('b')));
    assert.not.ok(existsSync(db('a')) || existsSync(db('c')) || existsSync(db('txt')));
    await run(join(dir, 'd'), a, none); // a.conf comes later; none.conf sets nothing
    assert.ok(existsSync(db('a')));
    const r = await run(old);
    assert.match(r.stdout, 'sql_connection (deprecated)');
    assert.ok(existsSync(db('old')));
    rmSync(db('a'));
    await run(old, a); // the later file's current name: every Glance release takes it
    assert.ok(existsSync(db('a')));
    // A later file's deprecated name against an earlier [database] connection: Glance 2023.x (oslo.db before 15)
    // takes the later file's, 2024.1 on the current name; with no Glance installed to decide, refused (test/oslo-sqlite).
    const split = await runCli(['sync', '43', '--glance-config', a, '--glance-config', old], { cwd: dir });
    assert.is(split.code, 3, split.stderr);
    assert.match(split.stderr, 'Glance releases disagree');
    // VERSION after a --glance-config is VERSION, not another file.
    const v = await runCli(['sync', '--glance-config', a, '45'], { cwd: dir });
    assert.is(v.code, 0, v.stderr);
    assert.is(await maxVersion(db('a')), 45);
    const missing = await runCli(
      ['version', '--glance-config', none, '--glance-config', join(dir, 'empty-folder-missing')],
      {
        cwd: dir,
      },
    );
    assert.is(missing.code, 3);
    const nothing = await runCli(['version', '--glance-config', none], { cwd: dir });
    assert.is(nothing.code, 3);
    assert.match(nothing.stderr, 'has no [database] connection setting (nor the deprecated [DEFAULT] sql_connection)');
  },
);

// ---- help, unknown commands, parse errors (issue 21 item 3)

const oneParagraph = (r: { stderr: string; stdout: string }) => {
  assert.match(r.stderr, /^error: [^\n]+\nhint: [^\n]+\n$/, r.stderr);
  assert.not.match(r.stderr, /›|COMMAND --help|\n\s+at |See more help|allows multiple values/);
  assert.is(r.stdout, '');
};

test('glance-db help, help sync and help db sync show help (exit 0); top help names the db topic; every help lists the exit codes', async () => {
  const top = await runCli(['help']);
  assert.is(top.code, 0, top.stderr);
  assert.match(top.stdout, /TOPICS\n\s+db\s+The same commands under the names? glance-manage users know/);
  for (const r of [
    top,
    await runCli(['help', 'sync']),
    await runCli(['help', 'db', 'sync']),
    await runCli(['sync', '--help']),
    await runCli(['--help']),
  ]) {
    assert.is(r.code, 0, r.stderr);
    for (const [name, code] of Object.entries(ExitCode))
      assert.match(r.stdout, new RegExp(`\\n  ${code} +\\S`), `exit code ${code} (${name}) listed`);
  }
  assert.match((await runCli(['help', 'sync'])).stdout, '$ glance-db sync [VERSION] [CURRENT_VERSION]');
  assert.match((await runCli(['help', 'db', 'upgrade'])).stdout, '$ glance-db db upgrade [VERSION]');
  const unknown = await runCli(['help', 'synx']);
  assert.is(unknown.code, 2);
  oneParagraph(unknown);
  assert.match(unknown.stderr, 'Did you mean glance-db sync?');
});

test('a mistyped command gets a suggestion, one error/hint paragraph, exit 2, and JSON under --json', async () => {
  for (const [args, suggestion] of [
    [['synx'], 'glance-db sync'],
    [['verison'], 'glance-db version'],
    [['db', 'upgarde'], 'glance-db db upgrade'],
    [['chek'], 'glance-db check'],
  ] as const) {
    const r = await runCli([...args]);
    assert.is(r.code, 2, args.join(' '));
    oneParagraph(r);
    assert.match(r.stderr, `Did you mean ${suggestion}?`);
    const j = await runCli([...args, '--json']);
    assert.is(j.code, 2);
    const o = JSON.parse(j.stdout);
    assert.is(o.ok, false);
    assert.is(o.error.code, 'USAGE');
    assert.is(o.error.exitCode, 2);
    assert.match(o.error.hint, `Did you mean ${suggestion}?`);
    assert.is(j.stderr, '');
  }
  // What cannot be a command name is never echoed (a pasted URL with its password).
  const pasted = await runCli(['postgresql://glance:Pa55word@db/glance']);
  assert.is(pasted.code, 2);
  oneParagraph(pasted);
  assert.not.match(pasted.stderr, 'Pa55word');
});

test('extra words, missing and unexpected arguments, unknown flags: a sentence naming the command, exit 2, JSON under --json', async () => {
  const extra = await runCli(['version', 'extra', 'args']);
  assert.is(extra.code, 2);
  oneParagraph(extra);
  assert.match(extra.stderr, 'error: glance-db version takes no arguments: "extra args".');
  // (glance-manage's `db upgrade` with no VERSION is its alembic upgrade heads: glance-db's sync, test/oslo-argv-unit.)
  const missing = await runCli(['upgrade']);
  assert.is(missing.code, 2);
  oneParagraph(missing);
  assert.match(missing.stderr, 'glance-db upgrade needs VERSION');
  assert.match(missing.stderr, 'glance-db help upgrade');
  const many = await runCli(['upgrade', '48', '49']);
  assert.is(many.code, 2);
  oneParagraph(many);
  const flag = await runCli(['sync', '--bogus']);
  assert.is(flag.code, 2);
  oneParagraph(flag);
  assert.match(flag.stderr, 'glance-db sync has no flag --bogus');
  const badInt = await runCli(['sync', '--lock-wait', 'abc']);
  assert.is(badInt.code, 2);
  oneParagraph(badInt);
  for (const args of [['version', 'extra', 'args'], ['upgrade'], ['sync', '--bogus'], ['upgrade', '48', '49']]) {
    const j = await runCli([...args, '--json']);
    assert.is(j.code, 2, args.join(' '));
    assert.is(JSON.parse(j.stdout).error.code, 'USAGE');
  }
  const noCommand = await runCli(['--json']);
  assert.is(noCommand.code, 2);
  assert.match(JSON.parse(noCommand.stdout).error.message, 'No command given');
});

test('glance-db completion bash: a script that completes commands, the db topic, flags and flag options', async () => {
  const r = await runCli(['completion', 'bash']);
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
  const bad = await runCli(['completion', 'fish']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /^error: No completion for the shell "fish"/);
});

// ---- JSON scripts can rely on (issue 21 item 5)

withProject(
  'check --json names the database and dialect; verify and check give differences as {kind, table, object, expected, actual, text}; every object carries glanceDbVersion',
  async (dir, db) => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
    const check = await runCli(['check', '--json'], { cwd: dir });
    const c = JSON.parse(check.stdout);
    assert.is(c.dialect, 'sqlite');
    assert.is(c.database, `sqlite:${db}`);
    assert.is(c.glanceDbVersion, version);
    const sqlite = await openSqlite(db);
    sqlite.run('CREATE INDEX handmade_idx ON images (owner, status); ALTER TABLE images ADD COLUMN extra_col TEXT');
    writeFileSync(db, sqlite.export());
    const verify = await runCli(['verify', '--json'], { cwd: dir });
    assert.is(verify.code, 12);
    const v = JSON.parse(verify.stdout);
    assert.is(v.glanceDbVersion, version);
    assert.equal(v.differences, [
      {
        kind: 'unexpected-column',
        table: 'images',
        object: 'extra_col',
        expected: null,
        actual: 'text',
        text: 'images: unexpected column extra_col text',
      },
      {
        kind: 'unexpected-index',
        table: 'images',
        object: 'handmade_idx',
        expected: null,
        actual: 'handmade_idx(owner, status)',
        text: 'images: unexpected index handmade_idx(owner, status)',
      },
    ]);
    const human = await runCli(['verify'], { cwd: dir });
    assert.match(human.stdout, '  images: unexpected index handmade_idx(owner, status)');
    assert.equal(JSON.parse((await runCli(['check', '--json'], { cwd: dir })).stdout).differences, v.differences);
    for (const args of [
      ['version', '--json'],
      ['lint', '--json'],
      ['plan', '--json'],
      ['downgrade', '--json'],
      ['synx', '--json'],
      ['upgrade', '--json'],
    ]) {
      assert.is(JSON.parse((await runCli(args, { cwd: dir })).stdout).glanceDbVersion, version, args.join(' '));
    }
  },
);

test('the output schema rejects what it must (so validating every --json output in the suite means something)', () => {
  const good = { command: 'lint', glanceDbVersion: '0.1.0', ok: true, versions: 10, files: 30, added: [] };
  assertJsonOutput(['lint', '--json'], JSON.stringify(good));
  const { glanceDbVersion: _, ...noVersion } = good;
  assert.throws(() => assertJsonOutput(['lint', '--json'], JSON.stringify(noVersion)), /does not match/);
  assert.throws(
    () =>
      assertJsonOutput(
        ['verify', '--json'],
        JSON.stringify({
          command: 'verify',
          glanceDbVersion: '0.1.0',
          ok: false,
          version: 45,
          dialect: 'sqlite',
          database: 'sqlite:x',
          differences: ['images: unexpected index x(owner)'],
        }),
      ),
    /does not match/,
  );
  assert.throws(
    () =>
      assertJsonOutput(
        ['check', '--json'],
        JSON.stringify({
          command: 'check',
          glanceDbVersion: '0.1.0',
          ok: false,
          state: 'current',
          exitCode: 0,
          current: 51,
          latest: 51,
          message: 'x',
        }),
      ),
    /does not match/,
  );
  assert.throws(() => assertJsonOutput(['sync', '--json'], 'applied 42\n{}'), /not one JSON object/);
  // history, repair and snapshot have their own entries: a wrong shape is caught, the right one passes.
  const base = { glanceDbVersion: '0.1.0', ok: true, dialect: 'sqlite', database: 'sqlite:/x.sqlite' };
  const row = {
    version: 42,
    name: 'liberty_baseline',
    kind: 'applied',
    status: 'complete',
    appliedAt: '2026-01-01T00:00:00.000Z',
    checksum: 'sha256-lf:0',
    file: 'unchanged',
    executionMs: 3,
    statementsApplied: 1,
    statementsTotal: 1,
    toolVersion: '0.1.0',
    error: null,
    runBy: 'root@h',
    note: null,
  };
  assertJsonOutput(
    ['history', '--json'],
    JSON.stringify({ command: 'history', ...base, versions: [row], pending: [43] }),
  );
  assert.throws(
    () =>
      assertJsonOutput(
        ['history', '--json'],
        JSON.stringify({ command: 'history', ...base, versions: [{ ...row, kind: 'done' }], pending: [43] }),
      ),
    /does not match/,
  );
  assert.throws(
    () => assertJsonOutput(['history', '--json'], JSON.stringify({ command: 'history', ...base, versions: [row] })),
    /does not match/,
  );
  const repair = {
    command: 'repair',
    ...base,
    dryRun: true,
    recorded: 51,
    schemaMatches: [51],
    findings: ['x'],
    actions: [{ version: 49, action: 'record version 49 as baseline' }],
  };
  assertJsonOutput(['repair', '--json'], JSON.stringify(repair));
  assert.throws(
    () => assertJsonOutput(['repair', '--json'], JSON.stringify({ ...repair, actions: [{ version: 49, text: 'x' }] })),
    /does not match/,
  );
  assert.throws(
    () => assertJsonOutput(['repair', '--json'], JSON.stringify({ ...repair, recorded: 'fifty-one' })),
    /does not match/,
  );
  const snapshot = {
    command: 'snapshot',
    glanceDbVersion: '0.1.0',
    ok: true,
    version: 52,
    dialect: 'sqlite',
    path: '/p/schema/expected/sqlite/v52.json',
    tables: 31,
  };
  assertJsonOutput(['snapshot', '52', '--json'], JSON.stringify(snapshot));
  assert.throws(
    () => assertJsonOutput(['snapshot', '52', '--json'], JSON.stringify({ ...snapshot, path: undefined })),
    /does not match/,
  );
});

// ---- targets by release (issue 21 item 2)

withProject(
  'a Glance release names a target: sync zed stops at 50 (alembic wallaby_contract01), 2023.2 and 28.0 and --release work, nonsense is exit 2',
  async (dir, db) => {
    const zed = await runCli(['sync', 'zed'], { cwd: dir });
    assert.is(zed.code, 0, zed.stderr);
    assert.is(await maxVersion(db), 50);
    assert.equal(await sqliteRows(db, 'SELECT version_num FROM alembic_version'), [
      { version_num: 'wallaby_contract01' },
    ]);
    assert.match((await runCli(['sync', '2023.2'], { cwd: dir })).stdout, 'already at version 50');
    assert.match((await runCli(['db', 'sync', 'Bobcat'], { cwd: dir })).stdout, 'already at version 50');
    const disagree = await runCli(['sync', '45', '--release', 'zed'], { cwd: dir });
    assert.is(disagree.code, 2);
    assert.match(disagree.stderr, 'VERSION 45 and --release zed (version 50) disagree');
    const up = await runCli(['upgrade', '--release', '2024.1', '--json'], { cwd: dir });
    assert.is(up.code, 0, up.stderr);
    assert.is(JSON.parse(up.stdout).to, 51);
    assert.match((await runCli(['sync', '28.0.0'], { cwd: dir })).stdout, 'already at version 51');
    for (const bad of ['zedd', '2023.3', '99.0', '10.0']) {
      const r = await runCli(['sync', bad], { cwd: dir });
      assert.is(r.code, 2, bad);
      assert.match(r.stderr, 'VERSION must be a whole number such as 51, a Glance release');
    }
    assert.is(await maxVersion(db), 51);
  },
);

test('glance-db versions lists every version with its Glance releases and Alembic revision', async () => {
  const r = await runCli(['versions']);
  assert.is(r.code, 0, r.stderr);
  for (const v of VERSIONS) assert.match(r.stdout, new RegExp(`^${v} `, 'm'));
  assert.match(
    r.stdout,
    /^50 +add_tasks_image_request_user +wallaby_contract01 +wallaby 22, xena 23, yoga 24, zed 25, 2023\.1 \(antelope\) 26, 2023\.2 \(bobcat\) 27$/m,
  );
  assert.match(r.stdout, /^51 +add_cache_tables +2024_1_contract01 +2024\.1 \(caracal\) 28, /m);
  assert.match(r.stdout, /^42 +liberty_baseline +liberty +liberty 11$/m);
  // The last schema change: the first release that reaches what the newest release reaches (2024.1 while the newest release is at 51).
  const changed = GLANCE_RELEASES.filter((x) => x.version === NEWEST_RELEASE.version)[0];
  assert.match(
    r.stdout,
    ` schema change${LATEST > changed.version ? 's' : ''} after ${changed.series ?? changed.name}`,
  );
  assert.match(r.stdout, `are not listed yet; ${schemaChangeNote(LATEST)}\n`);
  assert.match(r.stdout, `Releases after ${releaseLabel(NEWEST_RELEASE)} are not listed yet;`);
  const j = JSON.parse((await runCli(['versions', '--json'])).stdout);
  assert.equal(
    j.versions.map((v: { version: number }) => v.version),
    VERSIONS,
  );
  const names = j.versions.flatMap((v: { releases: { name: string }[] }) => v.releases.map((x) => x.name));
  assert.is(new Set(names).size, names.length, 'each release at one version');
  for (const n of [
    'liberty',
    'mitaka',
    'newton',
    'ocata',
    'pike',
    'queens',
    'rocky',
    'stein',
    'train',
    'ussuri',
    'victoria',
    'wallaby',
    'xena',
    'yoga',
    'zed',
    'antelope',
    'bobcat',
    'caracal',
  ])
    assert.ok(names.includes(n), n);
});

withProject(
  "going past the installed Glance release (zed's 50, to 2024.1's 51) is warned about on stderr first (and in JSON); not when staying within it",
  async (dir, db) => {
    const site = join(dir, 'site-packages');
    mkdirSync(join(site, 'glance-25.0.0.dist-info'), { recursive: true });
    writeFileSync(
      join(site, 'glance-25.0.0.dist-info', 'METADATA'),
      'Metadata-Version: 2.1\nName: glance\nVersion: 25.0.1\n',
    );
    const env = { GLANCE_DB_GLANCE_SITE_PACKAGES: `${join(dir, 'none')}:${site}` };
    const within = await runCli(['sync', 'zed'], { cwd: dir, env });
    assert.is(within.code, 0, within.stderr);
    assert.not.match(within.stderr, 'warning');
    // No target on a zed host: zed's schema (issue 28 item 2); past it only when asked for.
    const stays = await runCli(['sync'], { cwd: dir, env });
    assert.is(stays.code, 0, stays.stderr);
    assert.not.match(stays.stderr, 'warning');
    assert.is(await maxVersion(db), 50);
    const past = await runCli(['sync', '51'], { cwd: dir, env });
    assert.is(past.code, 0, past.stderr);
    assert.match(
      past.stderr,
      /^warning: the installed Glance is 25\.0\.1, zed, whose schema is version 50; going to 51 \(Alembic 2024_1_contract01\)/m,
    );
    assert.match(past.stderr, 'glance-db sync zed');
    assert.not.match(past.stdout, 'warning');
    assert.is(await maxVersion(db), 51);
    const json = await runCli(['sync', '51', '--json'], { cwd: dir, env });
    assert.match(JSON.parse(json.stdout).warnings[0], 'the installed Glance is 25.0.1, zed');
    assert.not.match(json.stderr, 'warning:');
    assert.match(
      (await runCli(['versions'], { cwd: dir, env })).stdout,
      /Installed Glance: 25\.0\.1 \(zed: version 50\)/,
    );
  },
);

// ---- progress where logs are read (issue 21 item 4)

test('progress: a line when a phase worth one starts, one every few seconds while it lasts, a live line on a terminal', () => {
  const out: string[] = [];
  let now = 1_000;
  let tick: (() => void) | null = null;
  const timers = {
    setInterval: (fn: () => void) => ((tick = fn), 1),
    clearInterval: () => (tick = null),
    now: () => now,
  };
  const logs = new ProgressReporter({ tty: false, everySeconds: 5, write: (t) => out.push(t), ...timers });
  logs.phase('applying 45 add_visibility', true);
  assert.equal(out, ['progress: applying 45 add_visibility\n']);
  now += 5_000;
  tick!();
  now += 5_000;
  tick!();
  assert.equal(out.slice(1), [
    'progress: applying 45 add_visibility: still running, 5 s\n',
    'progress: applying 45 add_visibility: still running, 10 s\n',
  ]);
  logs.phase('waiting for the migration lock', false);
  assert.is(out.length, 3, 'a quiet phase prints nothing at once');
  now += 5_000;
  tick!();
  assert.is(out[3], 'progress: waiting for the migration lock: still running, 5 s\n');
  logs.stop();
  assert.is(tick, null, 'stopped');
  const tty: string[] = [];
  const live = new ProgressReporter({ tty: true, everySeconds: 5, write: (t) => tty.push(t), ...timers });
  live.phase('applying 46 drop_artifacts_tables', true);
  now += 1_500;
  tick!();
  assert.match(tty[0], /^\r. applying 46 drop_artifacts_tables \(1\.5 s\)\x1b\[K$/);
  live.stop();
  assert.is(tty[1], '\r\x1b[K');
});

withProject(
  'piped, sync prints a progress line on stderr as each version starts; stdout keeps the results',
  async (dir) => {
    const r = await runCli(['sync', '45'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.stderr.split('\n').filter(Boolean), [
      'progress: applying 42 liberty_baseline',
      'progress: applying 43 add_image_created_updated_idx',
      'progress: applying 44 update_metadef_os_nova_server',
      'progress: applying 45 add_visibility',
    ]);
    assert.not.match(r.stdout, 'progress:');
    assert.match(r.stdout, 'applied 45 add_visibility');
    const backup = await runCli(['sync', '46', '--backup'], { cwd: dir });
    assert.is(backup.code, 0, backup.stderr);
    assert.match(
      backup.stderr,
      /^progress: backing up sqlite:.*glance\.sqlite\nprogress: applying 46 drop_artifacts_tables\n$/,
    );
  },
);

withProject(
  "waiting for another run's lock prints a line every few seconds (GLANCE_DB_PROGRESS_SECONDS) until --lock-wait runs out",
  async (dir, db) => {
    assert.is(cli(['sync', '44'], { cwd: dir }).code, 0);
    const lockModule = join(ROOT, 'dist', 'src', 'platform', 'file-lock.js');
    const holder = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(lockModule)}); await m.acquireFileLock(${JSON.stringify(`${db}.lock`)}, 0, 'test'); console.log('held'); setTimeout(() => {}, 60000);`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d) => String(d).includes('held') && resolve());
        holder.on('exit', () => reject(new Error('the lock holder exited')));
      });
      const r = await cliAsync(['sync', '--lock-wait', '3'], { cwd: dir, env: { GLANCE_DB_PROGRESS_SECONDS: '1' } });
      assert.is(r.code, 8, r.stderr);
      assert.match(
        r.stderr,
        /^progress: waiting for the migration lock \(another glance-db run holds it\): still running, \d+ s$/m,
      );
      assert.match(r.stderr, /^error: /m);
    } finally {
      holder.kill();
    }
    assert.is(await maxVersion(db), 44);
  },
);

test('a long statement inside a version is named in the progress lines (PostgreSQL); with --json stdout keeps the one object', async () => {
  assert.ok(postgresEnv.available(), 'the postgresql server is required');
  const dir = makeProject(
    extraVersion(LATEST + 1, 'progress_probe', {
      sqlite: 'SELECT 1;\n',
      postgresql: 'CREATE TABLE progress_mark (x INT);\nSELECT pg_sleep(2.5);\nINSERT INTO progress_mark VALUES (1);\n',
      mysql: 'SELECT 1;\n',
    }),
  );
  try {
    await withDb(postgresEnv, async (db) => {
      assert.is((await runCli(['sync', String(LATEST), '--url', db.url], { cwd: dir })).code, 0);
      const r = await cliAsync(['sync', '--json', '--url', db.url], {
        cwd: dir,
        env: { GLANCE_DB_PROGRESS_SECONDS: '1' },
      });
      assert.is(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `^progress: applying ${LATEST + 1} progress_probe: statement 2/3 \\(SELECT pg_sleep\\(2\\.5\\)\\): still running, \\d+ s$`,
          'm',
        ),
      );
      assert.is(JSON.parse(r.stdout).applied[0].version, LATEST + 1);
    });
  } finally {
    removeProject(dir);
  }
});

// ---- plan --output: applied_at from the server's clock when the script runs (issue 21 item 8)

for (const env of [sqliteEnv, postgresEnv, mysqlEnv]) {
  test(`plan --output (${env.dialect}): the script stamps applied_at with the server's clock when it runs, not when it was made`, async () => {
    if (!env.available()) return console.log(`  SKIP ${env.dialect}: server not reachable`);
    await withDb(env, async (db) => {
      assert.is((await runCli(['sync', String(PREVIOUS), '--url', db.url])).code, 0);
      const dir = mkdtempSync(join(tmpdir(), 'glance-db-plan-'));
      try {
        const file = join(dir, 'upgrade.sql');
        const made = await runCli(['plan', String(LATEST), '--url', db.url, '--output', file]);
        assert.is(made.code, 0, made.stderr);
        const generatedAt = /^-- Generated by glance-db \S+ at (\S+) /m.exec(readFileSync(file, 'utf8'))![1];
        assert.not.match(readFileSync(file, 'utf8'), `'${generatedAt}'`, 'no literal time in the rows');
        // A later run of the script: what it records is when it ran.
        while (new Date().toISOString().slice(0, 19) <= generatedAt.slice(0, 19))
          await new Promise((r) => setTimeout(r, 20));
        const before = new Date().toISOString();
        if (env.dialect === 'sqlite') {
          const res = spawnSync('sqlite3', [db.url.slice('sqlite:'.length)], {
            input: readFileSync(file),
            encoding: 'utf8',
          });
          assert.is(res.status, 0, res.stderr);
        } else
          loadSqlFile(
            env.dialect as 'postgresql' | 'mysql',
            new URL(db.url.replace(/^[a-z+]+:/, 'http:')).pathname.slice(1),
            file,
          );
        const [row] = await db.rows(`SELECT applied_at FROM glance_db_version WHERE version = ${LATEST}`);
        const at = String(row.applied_at);
        assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.ok(at >= before.slice(0, 19), `${at} is not before the run (${before}); generated at ${generatedAt}`);
        assert.is((await runCli(['check', '--url', db.url])).code, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

withProject(
  'sync/upgrade --dry-run print the plan and change nothing; what sync refuses, a dry run refuses the same way',
  async (dir, db) => {
    const none = await runCli(['sync', '--dry-run'], { cwd: dir });
    assert.is(none.code, 0, none.stderr);
    assert.match(
      none.stdout,
      `dry run: nothing changed; sync would run ${VERSIONS.length} version(s), empty -> ${LATEST}:`,
    );
    assert.match(none.stdout, '-- Version 42 liberty_baseline: sql/sqlite/042_liberty_baseline.sql sha256-lf:');
    assert.not.ok(existsSync(db), 'no file created');
    const up = await runCli(['upgrade', '45', '--dry-run'], { cwd: dir });
    assert.is(up.code, 5, up.stderr);
    assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
    const bytes = readFileSync(db);
    const dry = await runCli(['upgrade', 'zed', '--dry-run', '--json'], { cwd: dir });
    assert.is(dry.code, 0, dry.stderr);
    const j = JSON.parse(dry.stdout);
    assert.is(j.dryRun, true);
    assert.is(j.from, 45);
    assert.is(j.to, 50);
    assert.equal(
      j.versions.map((v: { version: number }) => v.version),
      [46, 47, 48, 49, 50],
    );
    assert.ok(readFileSync(db).equals(bytes), 'the database file is unchanged');
    const down = await runCli(['sync', '44', '--dry-run'], { cwd: dir });
    assert.is(down.code, 6);
    const sqlite = await openSqlite(db);
    sqlite.run('CREATE INDEX handmade_idx ON images (owner)');
    writeFileSync(db, sqlite.export());
    const drifted = readFileSync(db);
    // As sync itself: schema drift is refused (exit 12), unless --accept-drift.
    const drift = await runCli(['sync', '--dry-run'], { cwd: dir });
    assert.is(drift.code, 12, drift.stderr);
    assert.match(drift.stderr, /^error: schema drift at version 45: 1 difference.*Nothing was changed \(dry run\)/s);
    assert.is((await runCli(['sync'], { cwd: dir })).code, 12, 'sync refuses the same database');
    const accepted = await runCli(['sync', '--dry-run', '--accept-drift'], { cwd: dir });
    assert.is(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stderr, /^warning: schema drift at version 45: 1 difference.*--accept-drift would record/);
    assert.ok(readFileSync(db).equals(drifted), 'the dry runs and the refused sync changed nothing');
    writeFileSync(
      join(dir, 'sql/sqlite/043_add_image_created_updated_idx.sql'),
      '-- edited\n' + readFileSync(join(dir, 'sql/sqlite/043_add_image_created_updated_idx.sql'), 'utf8'),
    );
    const sum = await runCli(['sync', '--dry-run'], { cwd: dir });
    assert.is(sum.code, 4, sum.stderr);
    assert.match(sum.stderr, 'Nothing was changed (dry run)');
    assert.is(await maxVersion(db), 45);
  },
);

// ---- editors (issue 21 item 6)

test("the manifest schema has a stable $id, and the manifest's yaml-language-server line (documented in docs/reference/manifest.md) finds it", () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'glance-db.schema.json'), 'utf8'));
  assert.is(schema.$id, 'urn:glance-db:schema:manifest:1');
  const first = readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8').split('\n')[0];
  const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
  assert.ok(m, first);
  assert.is(JSON.parse(readFileSync(join(ROOT, m![1]), 'utf8')).$id, schema.$id);
  const page = readFileSync(join(ROOT, 'docs', 'reference', 'manifest.md'), 'utf8');
  assert.match(page, first);
  assert.match(page, schema.$id);
  assert.is(
    JSON.parse(readFileSync(join(ROOT, 'schema', 'output.schema.json'), 'utf8')).$id,
    'urn:glance-db:schema:output:1',
  );
});

test('help into a reader that stops early (glance-db help | head -2) still exits 0', async () => {
  for (const args of [['help'], ['sync', '--help']]) {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv() });
    child.stdout.destroy(); // the reader is gone before glance-db writes a line
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.is(code, 0, args.join(' '));
  }
});

test.run();
