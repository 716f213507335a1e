// The test runner (test/run.mjs) and the test servers' helper: every test
// file has its tier, the scheduler keeps its limits (jobs, per server, the
// files that run alone), a file's counts and the final line are what CI
// reads, and no test names a server by a literal address instead of asking
// test/servers.ts (GLANCE_DB_TEST_*_URL, closedPort()).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './helpers.js';
import { closedPort } from './servers.js';

const run = await import(pathToFileURL(join(ROOT, 'test', 'run.mjs')).href);
const TEST_DIR = join(ROOT, 'test');
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : /\.(ts|mjs)$/.test(n) ? [join(dir, n)] : [],
  );
const testFiles = readdirSync(TEST_DIR).filter((n) => n.endsWith('.test.ts'));

test("every test file is in run.mjs's table, every row names a file, and the tiers agree with the servers", () => {
  assert.ok(testFiles.length > 40, String(testFiles.length));
  for (const f of testFiles) {
    const c = run.classify(f);
    assert.not.ok(c.unknown, `${f} is in no row of test/run.mjs's TABLE`);
    for (const t of c.tiers) assert.ok(run.TIER_NAMES.includes(t), `${f}: tier ${t}`);
    if (c.tiers.includes('unit') || c.tiers.includes('sqlite'))
      assert.equal(c.uses, [], `${f} is ${c.tiers} but uses ${c.uses}`);
    for (const server of ['postgresql', 'mysql'])
      if (c.tiers.includes(server))
        assert.ok(c.uses.includes(server), `${f} is in the ${server} tier but takes no ${server} slot`);
  }
  for (const row of run.TABLE)
    assert.ok(
      testFiles.some((f) => row.name.test(f.replace(/\.test\.ts$/, ''))),
      `row ${row.name} names no test file`,
    );
  for (const tier of run.TIER_NAMES)
    assert.ok(
      testFiles.some((f) => run.classify(f).tiers.includes(tier)),
      `tier ${tier} is empty`,
    );
  assert.equal(
    run.classify('secrets.test.ts').uses,
    ['postgresql', 'mysql'],
    'a file on every dialect takes a slot on both servers',
  );
  assert.ok(run.classify('cluster-galera.test.js').alone, 'the Galera suites run alone');
  assert.ok(run.classify('conformance-sqlite').tiers.includes('fast'), 'npm run test:fast runs the SQLite conformance');
});

test('options: --jobs, --per-server, --tier, REGEX; bad ones are usage errors', () => {
  const o = run.parseArgs(['--jobs', '3', '--per-server=1', '--tier', 'unit,sqlite', 'secrets']);
  assert.is(o.jobs, 3);
  assert.is(o.perServer, 1);
  assert.equal(o.tiers, ['unit', 'sqlite']);
  assert.ok(o.filter.test('dist/test/secrets.test.js'));
  assert.is(run.parseArgs(['-j', '1']).jobs, 1);
  assert.ok(run.parseArgs([]).jobs >= 1, 'the default: the number of cores');
  assert.is(run.parseArgs([]).perServer, 2);
  for (const bad of [
    ['--jobs', '0'],
    ['--jobs', 'x'],
    ['--jobs'],
    ['--per-server', '0'],
    ['--tier', 'nosuch'],
    ['--tier', ''],
    ['--nosuch'],
    ['a', 'b'],
    ['('],
  ]) {
    assert.throws(
      () => run.parseArgs(bad),
      (e: Error) => e instanceof run.UsageError,
      bad.join(' '),
    );
  }
});

test("a file's counts: its tests, and one failure when it exits badly outside any test", () => {
  const uvu = (total: number, passed: number, skipped = 0) =>
    `  Total:     ${total}\n  Passed:    ${passed}\n  Skipped:   ${skipped}\n  Duration:  1.00ms\n`;
  assert.equal(run.outcome(uvu(5, 5), 0), { passed: 5, skipped: 0, failed: 0, crashed: false });
  assert.equal(run.outcome(uvu(5, 3), 1), { passed: 3, skipped: 0, failed: 2, crashed: false });
  assert.equal(run.outcome(uvu(5, 4, 1), 0), { passed: 4, skipped: 1, failed: 1, crashed: false });
  assert.equal(run.outcome('', 1), { passed: 0, skipped: 0, failed: 1, crashed: true }, 'died before any test');
  assert.equal(
    run.outcome(uvu(2, 2), 'SIGKILL'),
    { passed: 2, skipped: 0, failed: 1, crashed: true },
    'killed after its tests passed',
  );
  assert.equal(run.finalLine({ passed: 3, failed: 0, skipped: 0 }), { line: '3 passed, 0 failed', code: 0 });
  assert.equal(run.finalLine({ passed: 3, failed: 0, skipped: 2 }), { line: '3 passed, 0 failed, 2 skipped', code: 0 });
  assert.equal(run.finalLine({ passed: 3, failed: 1, skipped: 0 }), { line: '3 passed, 1 failed', code: 1 });
  assert.equal(
    run.finalLine({ passed: 0, failed: 0, skipped: 0 }),
    { line: '0 passed, 0 failed', code: 1 },
    'nothing ran: not a pass',
  );
});

test('the scheduler: never more than --jobs files, never more than --per-server on one server, an alone file with nothing beside it', async () => {
  const files = [
    ...Array.from({ length: 6 }, (_, i) => ({ rel: `pg${i}`, uses: ['postgresql'], alone: null })),
    ...Array.from({ length: 4 }, (_, i) => ({ rel: `both${i}`, uses: ['postgresql', 'mysql'], alone: null })),
    ...Array.from({ length: 6 }, (_, i) => ({ rel: `unit${i}`, uses: [], alone: null })),
    { rel: 'galera0', uses: ['galera'], alone: 'timing' },
    { rel: 'galera1', uses: ['galera'], alone: 'timing' },
  ];
  // Alone files first in the list: they must still wait for the others.
  files.unshift(files.pop()!);
  for (const [jobs, perServer] of [
    [1, 1],
    [2, 2],
    [4, 2],
    [8, 1],
    [8, 3],
  ]) {
    const running = new Set<(typeof files)[number]>();
    const ran: string[] = [];
    let most = 0;
    await run.schedule(files, { jobs, perServer }, async (f: (typeof files)[number]) => {
      running.add(f);
      most = Math.max(most, running.size);
      assert.ok(running.size <= jobs, `${running.size} files at once with --jobs ${jobs}`);
      for (const server of ['postgresql', 'mysql', 'galera']) {
        const n = [...running].filter((r) => r.uses.includes(server)).length;
        assert.ok(n <= perServer, `${n} files on ${server} with --per-server ${perServer}`);
      }
      if (f.alone) assert.is(running.size, 1, `${f.rel} ran beside ${[...running].map((r) => r.rel)}`);
      assert.ok(![...running].some((r) => r !== f && r.alone), `${f.rel} started beside an alone file`);
      await new Promise((r) => setTimeout(r, 2 + (ran.length % 3)));
      ran.push(f.rel);
      running.delete(f);
    });
    assert.equal([...ran].sort(), files.map((f) => f.rel).sort(), 'every file ran once');
    assert.ok(
      ran.slice(-2).every((r) => r.startsWith('galera')),
      `the alone files last: ${ran}`,
    );
    if (jobs > 1) assert.ok(most > 1, `--jobs ${jobs} ran files in parallel`);
  }
});

test('run.mjs itself: --list shows tiers and servers; a REGEX that matches nothing ends "0 passed, 0 failed" with exit 1; a bad option is exit 2', () => {
  const node = (args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'test', 'run.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const list = node(['--list', '--tier', 'system']);
  assert.is(list.status, 0, list.stderr);
  assert.match(list.stdout, /dist\/test\/cluster-galera\.test\.js +system +galera +~\d+ s +alone: /);
  assert.not.match(list.stdout, /runner-unit/);
  const none = node(['no-such-test-file-matches-this']);
  assert.is(none.status, 1);
  assert.is(none.stdout.trim().split('\n').at(-1), '0 passed, 0 failed');
  const bad = node(['--jobs', 'many']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /^error: --jobs takes a whole number/);
});

test('test/times.json: seconds by the NAME of a test file that exists; --list starts the longest files first, the alone ones last', () => {
  const recorded = run.readRecorded() as Record<string, unknown>;
  const names = new Set(testFiles.map((f) => f.replace(/\.test\.ts$/, '')));
  assert.ok(Object.keys(recorded).length > 0, 'test/times.json records some files');
  for (const [name, seconds] of Object.entries(recorded)) {
    assert.ok(names.has(name), `test/times.json names ${name}, which is no test/NAME.test.ts`);
    assert.ok(typeof seconds === 'number' && seconds > 0, `${name}: ${String(seconds)}`);
  }
  const list = spawnSync(process.execPath, [join(ROOT, 'test', 'run.mjs'), '--list'], { cwd: ROOT, encoding: 'utf8' });
  assert.is(list.status, 0, list.stderr);
  const rows = list.stdout
    .split('\n')
    .filter((l) => l.startsWith('dist/'))
    .map((l) => ({ alone: / alone: /.test(l), seconds: Number(/ ~(\d+) s\b/.exec(l)![1]) }));
  assert.ok(rows.length > 40, String(rows.length));
  const firstAlone = rows.findIndex((x) => x.alone);
  assert.ok(
    rows.slice(firstAlone).every((x) => x.alone),
    'the alone files start last',
  );
  const others = rows.slice(0, firstAlone).map((x) => x.seconds);
  assert.equal(
    others,
    [...others].sort((a, b) => b - a),
    'the others start longest first',
  );
});

// A literal address of a test server or a "closed" port in a test: it ignores
// GLANCE_DB_TEST_PG_URL / GLANCE_DB_TEST_MYSQL_URL and knocks on whatever
// listens there on the machine that runs the tests.
const HARD_CODED = [
  /(?:127\.0\.0\.1|localhost|\[::1\]):(?:1|9|3306|5432|6432)(?!\d)/,
  /['"]-h['"],\s*['"](?:127\.0\.0\.1|localhost)['"]/,
];

test('no test names a server by address: every URL comes from test/servers.ts, a closed port from closedPort()', () => {
  const found: string[] = [];
  for (const file of sources(TEST_DIR)) {
    const rel = relative(ROOT, file);
    if (rel === join('test', 'servers.ts') || rel === join('test', 'runner-unit.test.ts')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (HARD_CODED.some((re) => re.test(line))) found.push(`${rel}:${i + 1}: ${line.trim().slice(0, 160)}`);
      });
  }
  assert.equal(found, [], `literal server addresses:\n${found.join('\n')}`);
});

test('closedPort(): a port on 127.0.0.1 where a connection is refused', async () => {
  const port = await closedPort();
  assert.ok(port > 0 && port < 65536, String(port));
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(null)));
    s.once('error', resolve);
  });
  assert.is(err?.code, 'ECONNREFUSED');
});

test.run();
