// runCli (src/cli/run-cli.ts) against the real process: for a fixed set of command
// lines, the CLI run inside the test's process gives exactly the exit code,
// stdout and stderr that bin/run.js gives as a process (issue 30, "the CLI in
// process"). The tests that moved onto runCli rely on this; a difference in
// output, exit code or which stream a line goes to fails here first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './servers.js';
import { cli, cleanEnv, extraVersion, LATEST, ROOT, runCli, type CliResult } from './helpers.js';

interface Case {
  args: string[];
  /** Files written into the project before the run (relative path -> content). */
  files?: Record<string, string>;
  /**
   * Command lines run first, on the same project: as a process, once for all
   * the cases with the same ones; the database they leave is copied in before
   * each run (the runs compared start from the same file).
   */
  before?: string[][];
  env?: Record<string, string>;
}

const DB = 'glance.sqlite';
const CLOSED = await closedPort();
const CASES: Case[] = [
  // help and version
  { args: ['--help'] },
  { args: ['help'] },
  { args: ['help', 'sync'] },
  { args: ['help', 'nope'] },
  { args: ['sync', '--help'] },
  { args: ['db', 'sync', '--help'] },
  { args: ['--version'] },
  { args: ['completion', 'bash'] },
  // bad input: unknown command, flag, value; exit 2
  { args: ['nope'] },
  { args: ['nope', '--json'] },
  { args: ['sync', '--bogus'] },
  { args: ['sync', '--bogus', '--json'] },
  { args: ['sync', '--lock-wait', 'soon'] },
  { args: ['sync', 'forty'] },
  { args: ['sync', '999'] },
  { args: ['plan', '--dialect', 'oracle'] },
  { args: ['version', '--url', 'ftp://x/y'] },
  { args: ['version', '--url', `postgresql://u:s3cret-pw@127.0.0.1:${CLOSED}/db`, '--connect-timeout', '1'] },
  { args: ['version', '--url', `postgresql://u:s3cret-pw@127.0.0.1:${CLOSED}/db`, '--connect-timeout', '1', '--json'] },
  { args: ['version', '--glance-config', '/nonexistent/glance-api.conf'] },
  // check and version on a fresh SQLite file, then after sync
  { args: ['check'] },
  { args: ['check', '--json'] },
  { args: ['version'] },
  { args: ['version', '--json'] },
  { args: ['db', 'version'] },
  { args: ['versions', '--json'] },
  { args: ['plan', '--dialect', 'sqlite'] },
  { args: ['plan', '--dialect', 'sqlite', '--from', '44', '--json'] },
  { args: ['sync', '--dry-run'] },
  { args: ['check'], before: [['sync', '45']] },
  { args: ['check', '--json'], before: [['sync', '45']] },
  { args: ['version'], before: [['sync', '45']] },
  { args: ['downgrade', '44'], before: [['sync', '45']] },
  { args: ['downgrade', '44', '--json'], before: [['sync', '45']] },
  { args: ['sync', '44'], before: [['sync', '45']] },
  { args: ['lint'] },
  { args: ['lint', '--json'], files: { [`sql/sqlite/${LATEST + 1}_x.sql`]: 'CREATE TABLE x (id INTEGER);\n' } },
  { args: ['lint'], files: extraVersion(LATEST + 1, 'added', 'CREATE TABLE x (id INTEGER);\n') },
  { args: ['check'], files: { 'glance-db.yaml': 'versions: [\n' } },
  { args: ['check', '--json'], files: { 'glance-db.yaml': 'versions: [\n' } },
  { args: ['version'], env: { GLANCE_DB_URL: `sqlite:${DB}` }, files: { 'glance-db.yaml': '' } },
];

/** The project folder, made again at the same path for each run, so that paths in the output are the same. */
const dir = join(tmpdir(), `glance-db-run-cli-${process.pid}`);

/** The database each list of before lines leaves, made once. */
const afterBefore = new Map<string, Buffer>();

function fresh(c: Case): void {
  const key = JSON.stringify([c.before ?? [], c.env ?? {}, c.files ?? {}]);
  if (c.before && !afterBefore.has(key)) {
    fresh({ ...c, before: undefined });
    for (const b of c.before) assert.is(cli(b, { cwd: dir, env: c.env }).code, 0, `before: ${b.join(' ')}`);
    afterBefore.set(key, readFileSync(join(dir, DB)));
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'glance-db.yaml'), join(dir, 'glance-db.yaml'));
  cpSync(join(ROOT, 'sql'), join(dir, 'sql'), { recursive: true });
  for (const [rel, content] of Object.entries(c.files ?? {})) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  if (c.before) writeFileSync(join(dir, DB), afterBefore.get(key)!);
}

/** Times and durations differ from run to run, not between the two ways of running. */
const steady = (r: CliResult): CliResult => {
  const clean = (s: string) =>
    s
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME')
      .replace(/"(executionMs|elapsedMs|durationMs)": \d+/g, '"$1": N')
      .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, 'N$2');
  return { code: r.code, stdout: clean(r.stdout), stderr: clean(r.stderr) };
};

for (const c of CASES) {
  const label = `${c.args.join(' ')}${c.before ? ` (after ${c.before.map((b) => b.join(' ')).join('; ')})` : ''}${c.files ? ` (with ${Object.keys(c.files).join(', ')})` : ''}`;
  test(`runCli = the process: glance-db ${label}`, async () => {
    fresh(c);
    const real = cli(c.args, { cwd: dir, env: c.env });
    fresh(c);
    const inProcess = await runCli(c.args, { cwd: dir, env: c.env });
    assert.equal(steady(inProcess), steady(real), label);
  });
}

test('the cases cover exit codes 0, 2, 3 and more, both streams, and --json', async () => {
  const codes = new Set<number>();
  for (const c of CASES.filter((c) => !c.before)) {
    fresh(c);
    codes.add((await runCli(c.args, { cwd: dir, env: c.env })).code);
  }
  for (const code of [0, 2, 3]) assert.ok(codes.has(code), `exit ${code} among ${[...codes]}`);
  assert.ok(codes.size >= 5, `${codes.size} exit codes: ${[...codes]}`);
  assert.ok(CASES.length >= 30);
});

test('runCli leaves the test process as it was: environment, folder, exit code, signal listeners', async () => {
  const env = process.env;
  const cwd = process.cwd();
  const listeners = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((e) => process.listenerCount(e));
  fresh({ args: [] });
  for (const args of [['sync', '45'], ['sync', '--bogus'], ['version', '--json'], ['nope']])
    await runCli(args, { cwd: dir, env: { GLANCE_DB_TEST_MARK: '1' } });
  assert.is(process.env, env);
  assert.is(process.env.GLANCE_DB_TEST_MARK, undefined);
  assert.is(process.cwd(), cwd);
  assert.is(process.exitCode, undefined);
  // SQLite's exit hook (src/platform/sqlite-lock.ts) is installed once per process, on the first run that needs it.
  await runCli(['sync'], { cwd: dir });
  const after = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((e) => process.listenerCount(e));
  await runCli(['sync', '44'], { cwd: dir });
  assert.equal(
    ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit'].map((e) => process.listenerCount(e)),
    after,
  );
  assert.equal(after.slice(0, 3), listeners.slice(0, 3));
  assert.is(process.stdout.listenerCount('drain'), 0);
});

test('runs are taken one at a time: started together, each gets its own output, environment and folder', async () => {
  fresh({ args: [] });
  const other = `${dir}-other`;
  rmSync(other, { recursive: true, force: true });
  mkdirSync(other);
  try {
    const [a, b, c] = await Promise.all([
      runCli(['version'], { cwd: dir }),
      runCli(['version'], { cwd: other, env: { GLANCE_DB_URL: `sqlite:${join(other, 'nothing-here.sqlite')}` } }),
      runCli(['--version'], { cwd: dir }),
    ]);
    assert.equal(a, cli(['version'], { cwd: dir }));
    assert.equal(
      b,
      cli(['version'], { cwd: other, env: { GLANCE_DB_URL: `sqlite:${join(other, 'nothing-here.sqlite')}` } }),
    );
    assert.equal(c, cli(['--version'], { cwd: dir }));
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('a run after a help run is the same as a process (a Config shared by runs was changed by the help)', async () => {
  const url = `sqlite:${join(dir, 'none.sqlite')}`;
  for (const args of [
    ['db:check', '--help'],
    ['db', 'check', '--help'],
    ['db:check', 'extra', '--url', url],
    ['db', 'check', 'extra', '--url', url],
  ])
    assert.equal(await runCli(args), cli(args), args.join(' '));
});

test('an error that escapes the run is reported as bin/run.js does, and the next run is unaffected', async () => {
  // A folder where the manifest should be: the CLI reports it (no escape); the run after it is a clean one.
  fresh({ args: [], files: {} });
  rmSync(join(dir, 'glance-db.yaml'));
  mkdirSync(join(dir, 'glance-db.yaml'));
  const r = await runCli(['check'], { cwd: dir });
  assert.equal(r, cli(['check'], { cwd: dir }));
  assert.is.not(r.code, 0);
  const v = await runCli(['--version'], { cwd: ROOT, env: cleanEnv() as Record<string, string> });
  assert.is(v.code, 0);
  assert.is(v.stderr, '');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
