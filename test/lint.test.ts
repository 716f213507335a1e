// lint (offline, for pull requests) and --glance-config errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  cli,
  extraVersion,
  makeProject,
  removeProject,
  LATEST,
  NEXT,
  VERSIONS,
  runCli,
  versionFile,
} from './helpers.js';

function withProject(
  name: string,
  overrides: Record<string, string | null>,
  fn: (dir: string) => Promise<void> | void,
) {
  test(name, async () => {
    const dir = makeProject(overrides);
    try {
      await fn(dir);
    } finally {
      removeProject(dir);
    }
  });
}

/** Phase files of the rolling upgrade (issue 19), per dialect, as the shipped manifest lists them. */
const PHASE_FILES = [
  ...readFileSync(new URL('../../glance-db.yaml', import.meta.url), 'utf8').matchAll(
    /^ {8}(?:sqlite|postgresql|mysql): (sql\/\S+\.(?:expand|migrate|contract)\.sql)$/gm,
  ),
].map((m) => m[1]);

withProject('lint passes on the shipped manifest, SQL and lock', {}, async (dir) => {
  // A real process; the other lint runs are in process (test/run-cli-sqlite.test.ts).
  const r = cli(['lint'], { cwd: dir });
  assert.is(r.code, 0, r.stderr);
  assert.ok(PHASE_FILES.length >= 12, 'the phase files of 45 and 49');
  assert.match(r.stdout, `lint: ${VERSIONS.length} versions, ${VERSIONS.length * 3 + PHASE_FILES.length} files OK`);
});

withProject(
  'every phase file has its own line in the lock; editing one fails lint like any released file',
  {},
  async (dir) => {
    const lock = readFileSync(join(dir, 'sql/checksums.lock'), 'utf8');
    for (const f of PHASE_FILES) {
      const [, dialect, num, phase] = /^sql\/(\w+)\/(\d+)_\w+\.(\w+)\.sql$/.exec(f)!;
      assert.match(
        lock,
        new RegExp(`^${num} ${dialect} ${phase} ${f.replace(/\./g, '\\.')} sha256-lf:[0-9a-f]{64}$`, 'm'),
        f,
      );
    }
    const f = join(dir, 'sql/postgresql/045_add_visibility.migrate.sql');
    writeFileSync(f, readFileSync(f, 'utf8').replace('LIMIT 2000', 'LIMIT 5000'));
    for (const args of [['lint'], ['lint', '--update']]) {
      const r = await runCli(args, { cwd: dir });
      assert.is(r.code, 4, r.stderr);
      assert.match(
        r.stderr,
        /Released migration file\(s\) changed: sql\/postgresql\/045_add_visibility\.migrate\.sql \(version 45: locked sha256-lf:[0-9a-f]{64}, now/,
      );
    }
  },
);

withProject('a phase file not yet in the lock fails lint until --update records it with its phase', {}, async (dir) => {
  const lockFile = join(dir, 'sql/checksums.lock');
  const lines = readFileSync(lockFile, 'utf8')
    .split('\n')
    .filter((l) => !/^049 \w+ migrate /.test(l) && !l.startsWith('sum '));
  // Without 49's migrate lines the sum no longer matches: write it as --update would, from the rest.
  const entries = lines.filter((l) => /^\d{3} /.test(l));
  const sum = `sum sha256:${createHash('sha256')
    .update(entries.map((l) => `${l}\n`).join(''))
    .digest('hex')}`;
  writeFileSync(lockFile, [...lines.filter((l) => l.startsWith('#')), sum, ...entries, ''].join('\n'));
  const before = await runCli(['lint'], { cwd: dir });
  assert.is(before.code, 3, before.stderr);
  assert.match(
    before.stderr,
    'New version file(s) not yet in sql/checksums.lock: 49 sqlite migrate, 49 postgresql migrate, 49 mysql migrate',
  );
  assert.is((await runCli(['lint', '--update'], { cwd: dir })).code, 0);
  assert.match(
    readFileSync(lockFile, 'utf8'),
    /^049 mysql migrate sql\/mysql\/049_location_backend_to_store\.migrate\.sql sha256-lf:/m,
  );
  assert.is((await runCli(['lint'], { cwd: dir })).code, 0);
});

withProject('editing a released migration fails lint, and --update does not paper over it', {}, async (dir) => {
  const f = join(dir, 'sql/mysql/047_add_os_hidden.sql');
  writeFileSync(f, readFileSync(f, 'utf8').replace('DEFAULT 0', 'DEFAULT 1'));
  for (const args of [['lint'], ['lint', '--update']]) {
    const r = await runCli(args, { cwd: dir });
    assert.is(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /Released migration file\(s\) changed: sql\/mysql\/047_add_os_hidden\.sql \(version 47: locked sha256-lf:[0-9a-f]{64}, now sha256-lf:[0-9a-f]{64}\)/,
    );
  }
});

withProject(
  'a new version fails lint until lint --update records it in the lock',
  extraVersion(NEXT, 'add_thing', 'CREATE TABLE thing (id INTEGER);\n'),
  async (dir) => {
    const before = await runCli(['lint'], { cwd: dir });
    assert.is(before.code, 3);
    assert.match(
      before.stderr,
      `New version file(s) not yet in sql/checksums.lock: ${NEXT} sqlite, ${NEXT} postgresql, ${NEXT} mysql`,
    );
    assert.match(before.stderr, 'glance-db lint --update');
    assert.is((await runCli(['lint', '--update'], { cwd: dir })).code, 0);
    assert.match(
      readFileSync(join(dir, 'sql/checksums.lock'), 'utf8'),
      new RegExp(`^${String(NEXT).padStart(3, '0')} sqlite sql/sqlite/${NEXT}_add_thing\\.sql sha256-lf:`, 'm'),
    );
    assert.is((await runCli(['lint'], { cwd: dir })).code, 0);
  },
);

withProject(
  'a file that does not split (unterminated string) fails lint with its line',
  extraVersion(NEXT, 'bad', "INSERT INTO x VALUES ('oops);\n"),
  async (dir) => {
    const r = await runCli(['lint', '--update'], { cwd: dir });
    assert.is(r.code, 3);
    assert.match(
      r.stderr,
      `sql/sqlite/${NEXT}_bad.sql (version ${NEXT}): unterminated string starting at line 1, column 23`,
    );
  },
);

withProject('removing a released version fails lint', {}, async (dir) => {
  const m = readFileSync(join(dir, 'glance-db.yaml'), 'utf8');
  writeFileSync(join(dir, 'glance-db.yaml'), m.slice(0, m.indexOf(`  - version: ${LATEST}`)));
  for (const d of ['sqlite', 'postgresql', 'mysql']) rmSync(join(dir, versionFile(d, LATEST)));
  const r = await runCli(['lint'], { cwd: dir });
  assert.is(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    `Released version(s) removed from the manifest: ${LATEST} (sqlite), ${LATEST} (postgresql), ${LATEST} (mysql)`,
  );
});

const LOCK = 'sql/checksums.lock';
const lockLines = (dir: string) => readFileSync(join(dir, LOCK), 'utf8').split('\n');
const editLock = (dir: string, fn: (lines: string[]) => string[]) =>
  writeFileSync(join(dir, LOCK), fn(lockLines(dir)).join('\n'));
const entryIndex = (lines: string[], prefix: string) => lines.findIndex((l) => l.startsWith(prefix));

withProject(
  'checksums.lock: a malformed line fails lint and --update, naming the line (it was skipped before)',
  {},
  async (dir) => {
    // Breaking the 047 sqlite line used to make version 47 "new", and --update re-recorded it.
    editLock(dir, (lines) =>
      lines.map((l) => (l.startsWith('047 sqlite ') ? l.replace(' sha256-lf:', ' sha256:') : l)),
    );
    const broken = entryIndex(lockLines(dir), '047 sqlite ') + 1;
    for (const args of [['lint'], ['lint', '--update']]) {
      const r = await runCli(args, { cwd: dir });
      assert.is(r.code, 4, r.stderr);
      assert.match(r.stderr, `sql/checksums.lock:${broken}: not an entry`);
    }
  },
);

withProject('checksums.lock: an entry changed by hand, or the sum line removed, fails lint', {}, async (dir) => {
  const original = lockLines(dir);
  // A released checksum re-pointed at an edited file: caught by the sum over the entries.
  const i = entryIndex(original, '048 mysql ');
  editLock(dir, (lines) => lines.map((l, j) => (j === i ? l.replace(/[0-9a-f]{64}$/, '0'.repeat(64)) : l)));
  let r = await runCli(['lint', '--update'], { cwd: dir });
  assert.is(r.code, 4, r.stderr);
  assert.match(r.stderr, 'sql/checksums.lock was edited by hand');
  editLock(dir, () => original.filter((l) => !l.startsWith('sum ')));
  r = await runCli(['lint'], { cwd: dir });
  assert.is(r.code, 4, r.stderr);
  assert.match(r.stderr, 'sql/checksums.lock has no sum line');
  editLock(dir, () => original);
  assert.is((await runCli(['lint'], { cwd: dir })).code, 0);
});

test('--glance-config without a [database] connection is a config error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-conf-'));
  try {
    writeFileSync(join(dir, 'glance-api.conf'), '[DEFAULT]\ndebug = true\n[database]\n#connection = mysql://x\n');
    const r = await runCli(['version', '--glance-config', join(dir, 'glance-api.conf')]);
    assert.is(r.code, 3);
    assert.match(r.stderr, 'glance-api.conf has no [database] connection setting');
    assert.is((await runCli(['version', '--glance-config', join(dir, 'missing.conf')])).code, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
