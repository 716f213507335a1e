// sync's decisions, run by the real engine (src/app/sync.ts and apply.ts)
// over the in-memory fake driver (test/fake-driver.ts): no database, a few
// milliseconds each. The manifest is a small one of its own (versions 42 to
// 44, so that Glance's bookkeeping and take-over apply), with the expected
// schema of each version made by running its files on a fresh fake.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksumOf, statementHash } from '../src/platform/checksum.js';
import type { VersionRow } from '../src/core/driver/driver.js';
import { startedMarker } from '../src/core/apply.js';
import type { RunContext } from '../src/core/run-context.js';
import { glanceRules } from '../src/glance/rules.js';
import { sync, type ProgressEvent, type SyncRequest } from '../src/app/sync.js';
import {
  ChecksumMismatchError,
  DowngradeRefusedError,
  GlanceDbError,
  MigrationFailedError,
} from '../src/platform/errors.js';
import { introspectSqlite } from '../src/dialects/sqlite/introspect.js';
import type { Manifest } from '../src/core/manifest/types.js';
import { ProgressReporter, STATEMENT_GAP_MS, statementLabel } from '../src/cli/progress.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { FakeDriver } from './fake-driver.js';

const FILES: Record<number, [name: string, sql: string]> = {
  42: [
    'base',
    'CREATE TABLE images (id VARCHAR(36) NOT NULL PRIMARY KEY, name VARCHAR(255));\nCREATE TABLE image_members (id INTEGER NOT NULL PRIMARY KEY, image_id VARCHAR(36) NOT NULL);\n',
  ],
  43: [
    'more',
    "ALTER TABLE images ADD COLUMN created_at DATETIME;\nCREATE TABLE image_tags (id INTEGER NOT NULL PRIMARY KEY, value VARCHAR(255));\nUPDATE images SET name = 'x' WHERE name IS NULL;\n",
  ],
  44: ['data', "UPDATE images SET name = 'y' WHERE name = 'x';\n"],
};
const statementsOf = (v: number) => FILES[v][1].split(';\n').filter(Boolean);

/** A manifest folder with the SQL files and each version's expected schema. */
async function project(files = FILES): Promise<{ dir: string; manifest: Manifest }> {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-engine-'));
  mkdirSync(join(dir, 'sql', 'sqlite'), { recursive: true });
  mkdirSync(join(dir, 'schema', 'expected', 'sqlite'), { recursive: true });
  const built = new FakeDriver();
  const migrations = Object.entries(files).map(([v, [name, sql]]) => {
    const file = `sql/sqlite/0${v}_${name}.sql`;
    writeFileSync(join(dir, file), sql);
    return { version: Number(v), name, description: name, files: { sqlite: file } };
  });
  for (const m of migrations) {
    // A statement meant to fail leaves the schema as it was.
    for (const s of files[m.version][1].split(';\n').filter(Boolean)) {
      try {
        built.build([s]);
      } catch {
        break;
      }
    }
    writeFileSync(
      join(dir, 'schema', 'expected', 'sqlite', `v${m.version}.json`),
      JSON.stringify(await introspectSqlite(built.query)),
    );
  }
  const manifest: Manifest = {
    path: join(dir, 'glance-db.yaml'),
    dir,
    databaseUrl: 'sqlite:fake.sqlite',
    versionTable: 'glance_db_version',
    dialects: ['sqlite'],
    migrations,
  };
  return { dir, manifest };
}

function contextFor(manifest: Manifest, fake: FakeDriver): RunContext {
  return {
    manifest,
    target: parseDatabaseUrl('sqlite:fake.sqlite', manifest.dir),
    urlSource: 'the test',
    toolVersion: '0.0.0-test',
    runBy: 'tester@test',
    rules: glanceRules,
    selection: [],
    driverConfig: () => ({
      target: parseDatabaseUrl('sqlite:fake.sqlite', manifest.dir),
      versionTable: 'glance_db_version',
      lockWaitMs: 0,
      connectTimeoutMs: 0,
      statementTimeoutMs: 0,
      lockTimeoutMs: 0,
    }),
    createDriver: async () => fake,
  };
}

/** A row as an earlier run recorded it. */
function row(version: number, over: Partial<VersionRow> = {}): VersionRow {
  const n = statementsOf(version).length;
  return {
    version,
    name: FILES[version][0],
    dialect: 'sqlite',
    checksum: checksumOf(Buffer.from(FILES[version][1])),
    kind: 'applied',
    status: 'complete',
    statementsApplied: n,
    statementsTotal: n,
    statementHashes: null,
    error: null,
    appliedAt: '2024-01-01T00:00:00.000Z',
    executionMs: 5,
    toolVersion: '0.0.0-test',
    ...over,
  };
}

async function run(fake: FakeDriver, req: Partial<SyncRequest> = {}, files = FILES) {
  const { dir, manifest } = await project(files);
  const events: ProgressEvent[] = [];
  try {
    const result = await sync(contextFor(manifest, fake), { requireVersionControl: false, ...req }, (e) =>
      events.push(e),
    );
    return { result, events };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function refused(fake: FakeDriver, req: Partial<SyncRequest> = {}): Promise<GlanceDbError> {
  try {
    await run(fake, req);
  } catch (err) {
    return err as GlanceDbError;
  }
  throw new Error('sync did not refuse');
}

const versionsOf = (rows: VersionRow[]) => rows.map((r) => `${r.version}:${r.kind}:${r.status}`);

test('fresh database: every version applied, each in one transaction with its bookkeeping and its row; times come from the run', async () => {
  const fake = new FakeDriver();
  const { result } = await run(fake);
  assert.equal(
    result.applied.map((a) => a.version),
    [42, 43, 44],
  );
  assert.is(result.from, null);
  assert.is(result.to, 44);
  const rows = await fake.readHistory();
  assert.equal(versionsOf(rows), ['42:applied:complete', '43:applied:complete', '44:applied:complete']);
  // The time reported is the one recorded, without reading the history again.
  assert.equal(
    result.applied.map((a) => a.ms),
    rows.map((r) => r.executionMs),
  );
  // One transaction: the row marked in progress, the file's statements, Glance's bookkeeping, the row completed.
  const first = fake.log
    .slice(0, fake.log.indexOf('COMMIT') + 1)
    .map((l) => (/alembic_version/.test(l) ? 'EXEC (bookkeeping)' : l));
  assert.equal(
    [...new Set(first)],
    [
      'BEGIN',
      'INSERT 42',
      ...statementsOf(42).map((s) => `EXEC ${s}`),
      'EXEC (bookkeeping)',
      'UPDATE 42 status,error,statements_applied,execution_ms',
      'COMMIT',
    ],
  );
  assert.equal(fake.state.alembic, ['mitaka02']);
  assert.ok(fake.closed, 'the driver is closed');
});

test('progress: a statement event before each statement of a version with more than one, none for a one-statement version', async () => {
  const { events } = await run(new FakeDriver());
  const statements = events.filter((e) => e.type === 'statement');
  assert.equal(
    statements.map((e) => e.type === 'statement' && `${e.version} ${e.index + 1}/${e.total}`),
    ['42 1/2', '42 2/2', '43 1/3', '43 2/3', '43 3/3'],
  );
  assert.equal(
    events
      .filter((e) => e.type === 'start' || e.type === 'statement' || e.type === 'applied')
      .slice(0, 4)
      .map((e) => e.type),
    ['start', 'statement', 'statement', 'applied'],
  );
  const s = statements[2];
  assert.is(s.type === 'statement' && s.text, 'ALTER TABLE images ADD COLUMN created_at DATETIME');
});

test('baseline: CURRENT_VERSION over a database at that version records it and those below as baseline, then applies the rest', async () => {
  const fake = new FakeDriver().build([...statementsOf(42), ...statementsOf(43)]);
  const { result } = await run(fake, { currentVersion: 43 });
  assert.equal(result.baselined, [42, 43]);
  assert.equal(
    result.applied.map((a) => a.version),
    [44],
  );
  assert.equal(versionsOf(await fake.readHistory()), [
    '42:baseline:complete',
    '43:baseline:complete',
    '44:applied:complete',
  ]);
  assert.not.ok(
    fake.log.some((l) => l.startsWith('EXEC ALTER')),
    'nothing of 42-43 ran',
  );
});

test('baseline refused: CURRENT_VERSION that the schema does not match changes nothing', async () => {
  const fake = new FakeDriver().build(statementsOf(42));
  const err = await refused(fake, { currentVersion: 43 });
  assert.is(err.code, 'SCHEMA_DRIFT');
  assert.is(fake.state.rows, null, 'no version table');
  assert.is(fake.log.length, 0);
});

test('adopt: a database glance-manage built (alembic_version mitaka01) is recorded as adopted up to 43, and 44 is applied', async () => {
  const fake = new FakeDriver().build([
    ...statementsOf(42),
    ...statementsOf(43),
    'CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)',
    "INSERT INTO alembic_version (version_num) VALUES ('mitaka01')",
  ]);
  const { result, events } = await run(fake);
  assert.equal(result.adopted, [42, 43]);
  assert.equal(
    result.applied.map((a) => a.version),
    [44],
  );
  assert.equal(versionsOf(await fake.readHistory()), [
    '42:adopted:complete',
    '43:adopted:complete',
    '44:applied:complete',
  ]);
  assert.ok(events.some((e) => e.type === 'adopted' && e.source === 'alembic_version: mitaka01'));
  assert.equal(fake.state.alembic, ['mitaka02']);
});

test('resume (DDL not transactional): a version stopped after its first statement goes on at the second; a statement that had started and left its effect is accepted', async () => {
  const fake = new FakeDriver(false).build([...statementsOf(42), statementsOf(43)[0], statementsOf(43)[1]]);
  fake.state.rows = [
    row(42),
    row(43, {
      status: 'failed',
      statementsApplied: 1,
      statementHashes: [statementHash(statementsOf(43)[0])],
      error: startedMarker(1),
    }),
  ];
  const { result } = await run(fake);
  assert.equal(
    result.applied.map((a) => a.version),
    [43, 44],
  );
  const h43 = (await fake.readHistory()).find((r) => r.version === 43)!;
  assert.equal([h43.status, h43.error, h43.statementsApplied], ['complete', null, 3]);
  assert.equal(h43.statementHashes, statementsOf(43).map(statementHash));
  assert.not.ok(fake.log.includes(`ALONE ${statementsOf(43)[0]}`), 'statement 1 did not run again');
  assert.ok(
    fake.log.includes(`ALONE ${statementsOf(43)[1]}`),
    'statement 2 was re-checked (its table was already there)',
  );
  // DDL alone, marked started first; DML with its progress, in one transaction.
  const i = fake.log.indexOf(`ALONE ${statementsOf(43)[1]}`);
  assert.equal(fake.log.slice(i - 3, i + 8), [
    'BEGIN',
    'UPDATE 43 error',
    'COMMIT',
    `ALONE ${statementsOf(43)[1]}`,
    'BEGIN',
    'UPDATE 43 statements_applied,statements_total,statement_hashes,error',
    'COMMIT',
    'BEGIN',
    `EXEC ${statementsOf(43)[2]}`,
    'UPDATE 43 statements_applied,statements_total,statement_hashes,error',
    'COMMIT',
  ]);
});

test('resume refused: a statement that ran before has changed since', async () => {
  const fake = new FakeDriver(false).build([...statementsOf(42), statementsOf(43)[0]]);
  fake.state.rows = [row(42), row(43, { status: 'failed', statementsApplied: 1, statementHashes: ['sha256:changed'] })];
  const err = await refused(fake);
  assert.is(err.code, 'CHECKSUM_MISMATCH');
  assert.is(fake.log.length, 0, 'nothing ran');
});

test('a failing statement (DDL not transactional): the version stays failed with its progress, the error names file and statement', async () => {
  const fake = new FakeDriver(false);
  const files = {
    ...FILES,
    43: ['more', 'CREATE TABLE image_tags (id INTEGER);\nCREATE TABLE FAIL (x INTEGER);\n'] as [string, string],
  };
  try {
    await run(fake, {}, files);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, MigrationFailedError);
    assert.match((err as Error).message, 'sql/sqlite/043_more.sql');
    assert.match((err as Error).message, 'it resumes at statement 2');
  }
  const h43 = (await fake.readHistory()).find((r) => r.version === 43)!;
  assert.equal([h43.status, h43.statementsApplied], ['failed', 1]);
  assert.match(h43.error!, 'fake failure');
  assert.ok(fake.state.tables.has('image_tags'), 'statement 1 stays applied');
});

test('a failing statement (transactional DDL): the version rolls back whole, versions before it stay', async () => {
  const fake = new FakeDriver();
  const files = {
    ...FILES,
    43: ['more', 'CREATE TABLE image_tags (id INTEGER);\nCREATE TABLE FAIL (x INTEGER);\n'] as [string, string],
  };
  try {
    await run(fake, {}, files);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, MigrationFailedError);
    assert.match((err as Error).message, 'Rolled back');
  }
  assert.equal(versionsOf(await fake.readHistory()), ['42:applied:complete']);
  assert.not.ok(fake.state.tables.has('image_tags'));
  assert.equal(fake.state.alembic, ['liberty']);
});

test('downgrade refused: a target below the recorded version changes nothing', async () => {
  const fake = new FakeDriver().build([...statementsOf(42), ...statementsOf(43), ...statementsOf(44)]);
  fake.state.rows = [row(42), row(43), row(44)];
  const err = await refused(fake, { version: 43 });
  assert.instance(err, DowngradeRefusedError);
  assert.is(fake.log.length, 0);
});

test('checksum mismatch refused: a recorded version whose file changed since', async () => {
  const fake = new FakeDriver().build(statementsOf(42));
  fake.state.rows = [row(42, { checksum: 'sha256-lf:0000' })];
  const err = await refused(fake);
  assert.instance(err, ChecksumMismatchError);
  assert.is(fake.log.length, 0);
});

test('already applied by a concurrent run: found under the lock, reported as skipped, not run again', async () => {
  const fake = new FakeDriver();
  fake.beforeTransaction = () => {
    // Another run commits 43 while this one waits for the lock of 43's transaction.
    const rows = fake.state.rows!;
    if (rows.length === 1) {
      fake.build(statementsOf(43));
      rows.push(row(43));
    }
  };
  const { result, events } = await run(fake);
  assert.equal(
    result.applied.map((a) => a.version),
    [42, 44],
  );
  assert.ok(events.some((e) => e.type === 'skipped' && e.version === 43));
  assert.not.ok(fake.log.some((l) => l === `EXEC ${statementsOf(43)[0]}`));
  assert.equal(versionsOf(await fake.readHistory()), [
    '42:applied:complete',
    '43:applied:complete',
    '44:applied:complete',
  ]);
});

test('up to date: nothing runs', async () => {
  const fake = new FakeDriver().build([...statementsOf(42), ...statementsOf(43), ...statementsOf(44)]);
  fake.state.rows = [row(42), row(43), row(44)];
  const { result } = await run(fake);
  assert.ok(result.upToDate);
  assert.is(fake.log.length, 0);
});

test('progress lines of a long version: a statement is named once nothing was printed for a while, and in the still-running lines; a fast version prints only its own line', () => {
  const out: string[] = [];
  let now = 0;
  let tick: (() => void) | null = null;
  const logs = new ProgressReporter({
    tty: false,
    everySeconds: 5,
    write: (t) => out.push(t),
    now: () => now,
    setInterval: (fn) => ((tick = fn), 1),
    clearInterval: () => (tick = null),
  });
  const label = (i: number) =>
    statementLabel(
      i,
      7,
      `UPDATE images\n   SET visibility = CASE WHEN i.is_public THEN 'public' ELSE 'private' END -- statement ${i + 1}`,
    );
  logs.phase('applying 45 add_visibility', true);
  logs.detail(label(0));
  now += 500;
  logs.detail(label(1));
  assert.equal(
    out,
    ['progress: applying 45 add_visibility\n'],
    'statements that start soon after a line print nothing',
  );
  now += STATEMENT_GAP_MS;
  logs.detail(label(2));
  assert.is(
    out[1],
    "progress: applying 45 add_visibility: statement 3/7 (UPDATE images SET visibility = CASE WHEN i.is_public THEN 'p ...)\n",
  );
  now += 2500;
  tick!();
  assert.is(
    out[2],
    "progress: applying 45 add_visibility: statement 3/7 (UPDATE images SET visibility = CASE WHEN i.is_public THEN 'p ...): still running, 5 s\n",
  );
  now += 100;
  logs.detail(label(3));
  assert.is(out.length, 3, 'at most one line every STATEMENT_GAP_MS');
  logs.phase('applying 46 drop_artifacts_tables', true);
  now += 10_000;
  tick!();
  assert.is(
    out[4],
    'progress: applying 46 drop_artifacts_tables: still running, 10 s\n',
    "a new version forgets the last one's statement",
  );
  const tty: string[] = [];
  const live = new ProgressReporter({
    tty: true,
    everySeconds: 5,
    write: (t) => tty.push(t),
    now: () => now,
    setInterval: (fn) => ((tick = fn), 1),
    clearInterval: () => (tick = null),
  });
  live.phase('applying 45 add_visibility', true);
  live.detail(label(2));
  tick!();
  assert.equal(tty.length, 1, 'on a terminal only the live line');
  assert.match(tty[0], 'applying 45 add_visibility: statement 3/7 (UPDATE images');
});

test('statementLabel: one line, whitespace folded, long text cut', () => {
  assert.is(statementLabel(0, 2, 'CREATE INDEX a\n  ON b (c)'), 'statement 1/2 (CREATE INDEX a ON b (c))');
  assert.is(statementLabel(1, 2, 'x'.repeat(100), 10), `statement 2/2 (${'x'.repeat(10)} ...)`);
});

test.run();
