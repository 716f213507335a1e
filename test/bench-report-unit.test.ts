// The pure parts of the schema benchmark (bench/run.mjs, bench/report.mjs,
// bench/lib.mjs): the SQL the raw clients and dbmate run is each version's
// whole file as sync runs it, never a rolling phase file; the goals table
// gives each goal of issue 22 its verdict from the figures; rewriting
// docs/performance.md keeps the rolling-upgrade section and everything
// written by hand. The benchmark itself runs in npm run bench, never here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'glance-db-bench-report-'));
// Where the bench keeps its results (no rolling.json there: the section already in the document is kept).
process.env.GLANCE_DB_BENCH_DIR = work;
const load = (name: string): Promise<any> => import(pathToFileURL(join(ROOT, 'bench', name)).href);
const lib = await load('lib.mjs');
const { report, GOALS, HAND_WRITTEN } = await load('report.mjs');
const rolling = await load('rolling-report.mjs');

test('raw client and dbmate SQL: one whole file per version, as the manifest names it, no phase files', () => {
  const manifest = parse(readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8'));
  for (const dialect of ['sqlite', 'postgresql', 'mysql']) {
    const files = lib.versionFiles(dialect);
    assert.equal(
      files.map((f: { version: number }) => f.version),
      manifest.migrations.map((m: { version: number }) => m.version),
    );
    for (const f of files) assert.not.match(f.name, /\.(expand|migrate|contract)\.sql$/, `${dialect}: ${f.name}`);
    const combined = readFileSync(lib.combinedSql(dialect, 45, 51, work), 'utf8');
    assert.ok(combined.includes(readFileSync(join(ROOT, `sql/${dialect}/045_add_visibility.sql`), 'utf8')));
    assert.not.ok(
      combined.includes(readFileSync(join(ROOT, `sql/${dialect}/045_add_visibility.expand.sql`), 'utf8')),
      'no phase file in it',
    );
    const dbmateDir = lib.dbmateMigrations(dialect, work);
    assert.ok(readFileSync(join(dbmateDir, '049_location_backend_to_store.sql'), 'utf8').startsWith('-- migrate:up\n'));
    assert.match(lib.dbmateBaselineSql(dialect, 44), /VALUES \('044'\);\n$/);
  }
});

const dialectResult = (
  o: { exe?: number | null; dbmate?: number | null; populated?: Record<string, number> | null } = {},
) => ({
  startup: {
    node: 70,
    glanceDb: 210,
    executable: o.exe === undefined ? 130 : o.exe,
    dbmate: o.dbmate === undefined ? 100 : o.dbmate,
    glanceManage: 1300,
  },
  fresh: { node: 70, glanceDb: 250, executable: 200, raw: 20, dbmate: 110, glanceDb50: 240, glanceManage: 1400 },
  populated:
    o.populated === null
      ? undefined
      : {
          runs: 3,
          glanceDb: 20000,
          raw: 9000,
          dbmate: 21000,
          peakRssKiB: 2_000_000,
          sizeBytes: 1_950_000_000,
          visibilityMs: 7000,
          visibilityRowsPerS: 142857,
          ...o.populated,
        },
});
const results = (dialects: Record<string, unknown>) => ({
  when: '2026-11-25T21:00:00Z',
  machine: { cpu: 'test cpu', cores: 2, memGiB: 24 },
  versions: {
    node: 'v20',
    glanceDb: '0.1.0',
    dbmate: '2.36.0',
    sqlite3: '3.40',
    postgresql: '15',
    mariadb: '10.11',
    glanceManage: 'x',
  },
  runs: 10,
  images: 1_000_000,
  populatedRuns: 3,
  seed: 1,
  dialects,
});
const row = (doc: string, dialect: string, goal: string) =>
  doc.split('\n').find((l) => l.startsWith(`| ${dialect} | ${goal}`)) ?? '';

test('goals: each goal of issue 22 gets its verdict from the figures, SQLite against its own bounds, n/a without a figure', () => {
  const out = join(work, 'p1.md');
  const doc = report(
    results({
      sqlite: dialectResult({ populated: { glanceDb: 20000, raw: 9000 } }), // 2.22x of the shell: within 2.5x
      postgresql: dialectResult({ exe: null, dbmate: null, populated: { glanceDb: 10500, raw: 10000, dbmate: 10000 } }), // 1.05x raw; behind dbmate
    }),
    out,
  );
  assert.match(
    row(doc, 'sqlite', 'start-up: `version` within 2x'),
    /\| met \|$/,
    'the executable (1.86x) meets it though the CLI (3x) does not',
  );
  assert.match(row(doc, 'sqlite', 'start-up: faster than dbmate'), /\*\*missed\*\*/);
  assert.match(row(doc, 'sqlite', 'populated upgrade 44 to 51: within 2.5x the sqlite3 shell'), /2\.22x .* \| met \|$/);
  assert.match(row(doc, 'sqlite', 'populated upgrade: peak memory within 2.5x the file'), /1\.05x .* \| met \|$/);
  assert.match(row(doc, 'sqlite', 'populated upgrade 44 to 51: ahead of dbmate'), /1\.05x \| met \|$/);
  assert.match(
    row(doc, 'postgresql', 'start-up: `version` within 2x'),
    /3\.00x .* \*\*missed\*\* \|$/,
    'no executable: the CLI alone',
  );
  assert.match(
    row(doc, 'postgresql', 'start-up: faster than dbmate'),
    /\| n\/a \|$/,
    'dbmate not measured: no verdict',
  );
  assert.match(
    row(doc, 'postgresql', 'populated upgrade 44 to 51: within 1.1x the raw client'),
    /1\.05x .* \| met \|$/,
  );
  assert.match(row(doc, 'postgresql', 'populated upgrade 44 to 51: ahead of dbmate'), /0\.95x \| \*\*missed\*\* \|$/);
  assert.not.ok(row(doc, 'postgresql', 'populated upgrade: peak memory'), 'memory is a goal of SQLite only');
  assert.is(GOALS.populatedSqlite, 2.5);
  assert.ok(readFileSync(join(work, 'performance.svg'), 'utf8').includes('sqlite: start-up, executable'));
});

test('rewriting docs/performance.md keeps the rolling-upgrade section and everything below the hand-written marker, once', () => {
  const out = join(work, 'p2.md');
  const section = `${rolling.BEGIN}\n## Rolling upgrade under load\n\nkept rolling text\n${rolling.END}`;
  writeFileSync(
    out,
    `# Performance\n\nold generated text\n\n${section}\n\n## Rerun\n\nold\n\n${HAND_WRITTEN}\n\n## Reading (by hand)\n\nkept hand text\n`,
  );
  const first = report(results({ sqlite: dialectResult() }), out);
  writeFileSync(out, first);
  const second = report(results({ sqlite: dialectResult() }), out);
  for (const doc of [first, second]) {
    assert.not.ok(doc.includes('old generated text'));
    assert.is(doc.split('kept rolling text').length, 2, 'the rolling section, once');
    assert.is(doc.split('kept hand text').length, 2, 'the hand-written part, once');
    assert.ok(
      doc.indexOf(rolling.END) < doc.indexOf('## Rerun') &&
        doc.indexOf('## Rerun') < doc.indexOf(HAND_WRITTEN) &&
        doc.indexOf(HAND_WRITTEN) < doc.indexOf('kept hand text'),
    );
  }
  assert.is(second, first, 'rewriting is stable');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
