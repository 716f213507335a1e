// The pure parts of the rolling-upgrade benchmark (bench/rolling-*.mjs):
// percentiles, the stall, latency over time, the visibility model against
// populate.mjs's data, the SVG chart being well-formed, and the Markdown
// section spliced into docs/performance.md. The benchmark itself runs in
// npm run bench, never in npm test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import initSqlJs from 'sql.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// bench/ is plain JavaScript outside the TypeScript build: imported by path.
const load = (name: string): Promise<any> => import(pathToFileURL(join(ROOT, 'bench', name)).href);
const stats = await load('rolling-stats.mjs');
const model = await load('rolling-model.mjs');
const chart = await load('rolling-chart.mjs');
const report = await load('rolling-report.mjs');
const populate = await load('populate.mjs');

type Rec = { c: string; op: string; s: number; e: number; ok: boolean; err?: string };
const rec = (s: number, e: number, ok = true, op = 'get', c = 'old', err?: string): Rec => ({
  c,
  op,
  s,
  e,
  ok,
  ...(err ? { err } : {}),
});

test('percentile: nearest rank, whatever the input order; NaN for nothing', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.is(stats.percentile(xs, 50), 50);
  assert.is(stats.percentile(xs, 99), 99);
  assert.is(stats.percentile(xs, 100), 100);
  assert.is(stats.percentile(xs, 0), 1);
  assert.is(stats.percentile([7], 99), 7);
  assert.ok(Number.isNaN(stats.percentile([], 50)));
  // Numeric order, not string order.
  assert.is(stats.percentile([10, 9, 100], 50), 10);
});

test('summarize: counts, failures with their distinct first messages, latency from when the operation was due', () => {
  const s = stats.summarize([
    rec(0, 2),
    rec(10, 15),
    rec(20, 120, false, 'get', 'old', 'column "is_public" does not exist'),
    rec(30, 31, false, 'get', 'old', 'column "is_public" does not exist'),
  ]);
  assert.is(s.count, 4);
  assert.is(s.failed, 2);
  assert.is(s.max, 100);
  assert.is(s.p50, 2);
  assert.equal(s.errors, ['column "is_public" does not exist']);
  assert.is(s.deadlockRetried, undefined);
  // Writes that met a deadlock and were retried (as Glance retries them) are counted, failed or not.
  assert.is(
    stats.summarize([{ ...rec(0, 600), retries: 1 }, { ...rec(0, 2000, false), retries: 3 }, rec(0, 1)])
      .deadlockRetried,
    2,
  );
  const by = stats.summarizeByOp([rec(0, 1, true, 'get', 'old'), rec(0, 3, false, 'list', 'new', 'x')]);
  assert.is(by.all.count, 2);
  assert.is(by.list.new.failed, 1);
  assert.is(by.get.old.count, 1);
  assert.is(by.get.new, undefined);
});

test('longestGap: the longest interval with nothing in it, the window edges included, outside times ignored', () => {
  assert.equal(stats.longestGap([1, 2, 10], 0, 12), { ms: 8, at: 2 });
  assert.equal(stats.longestGap([], 5, 9), { ms: 4, at: 5 });
  assert.equal(stats.longestGap([-50, 3, 4, 500], 0, 10), { ms: 6, at: 4 });
  assert.equal(stats.longestGap([1, 1, 1], 0, 2), { ms: 1, at: 0 });
});

test('stall: failures are no service; the longest single operation counts when it is longer', () => {
  // Successes at 1 and 9, a failure at 5 between them: 8 ms without service.
  let s = stats.stall([rec(0, 1), rec(4, 5, false), rec(8, 9)], 0, 10);
  assert.is(s.gap.ms, 8);
  assert.is(s.ms, 8);
  // One operation due at 0 that finished at 30, while others kept succeeding.
  const many = Array.from({ length: 30 }, (_, i) => rec(i, i + 0.5));
  s = stats.stall([...many, rec(0, 30, true, 'update', 'new')], 0, 30);
  assert.is(s.ms, 30);
  assert.is(s.longestOp.op, 'new update');
  assert.ok(s.gap.ms < 2);
});

test('timeSeries: per bucket of completion time the largest latency, the count and the failures; empty buckets left out', () => {
  const ts = stats.timeSeries([rec(0, 50), rec(90, 95, false), rec(100, 350), rec(400, 420)], 100);
  assert.equal(ts, [
    { t: 0, max: 50, n: 2, failed: 1 },
    { t: 300, max: 250, n: 1, failed: 0 },
    { t: 400, max: 20, n: 1, failed: 0 },
  ]);
});

test('goalMet: zero failures, p99 under 100 ms, stall under 1 s, data and schema right', () => {
  const run = { ops: { all: { failed: 0, p99: 99 } }, stall: { ms: 999 }, check: { ok: true }, verify: { ok: true } };
  assert.equal(stats.goalMet(run), { failed: true, p99: true, stall: true, data: true });
  assert.equal(
    stats.goalMet({ ...run, ops: { all: { failed: 1, p99: 100 } }, stall: { ms: 1000 }, verify: { ok: false } }),
    { failed: false, p99: false, stall: false, data: false },
  );
});

test("model: the populated images' is_public and members are the ones populate.mjs generates", async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE images (id, name, size, status, is_public, created_at, deleted, disk_format, container_format, owner, min_disk, min_ram, protected);
    CREATE TABLE image_properties (image_id, name, value, created_at, deleted);
    CREATE TABLE image_locations (image_id, value, created_at, deleted, meta_data, status);
    CREATE TABLE image_tags (image_id, value, created_at, deleted);
    CREATE TABLE image_members (image_id, member, can_share, created_at, deleted, status);`);
  for (const seed of [1, 3]) {
    db.run('DELETE FROM images; DELETE FROM image_members;');
    db.exec(populate.populateSql('sqlite', 300, seed));
    const rows = db.exec(
      `SELECT i.id, i.is_public, EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND NOT m.deleted) FROM images i`,
    )[0].values;
    assert.is(rows.length, 300);
    const kinds = new Set<string>();
    for (const [id, isPublic, member] of rows) {
      const i = model.baseIndex(id);
      const st = model.baseState(i, seed);
      assert.is(st.isPublic, isPublic === 1, `${id} is_public`);
      assert.is(st.member === 'alive', member === 1, `${id} member`);
      // Glance's rule, docs/glance-versions.md.
      const v = model.baseVisibility(i, seed);
      assert.is(v, isPublic ? 'public' : member ? 'shared' : 'private');
      kinds.add(v);
    }
    assert.equal([...kinds].sort(), ['private', 'public', 'shared']);
  }
  assert.is(model.baseIndex('0b0e5c1e-1111-4222-8333-444455556666'), null);
});

test("model: exact where Glance's rules agree, either value where the trigger and the migrate step legitimately differ", () => {
  const L = new model.Ledger(1);
  const find = (pred: (s: any) => boolean) => {
    for (let i = 1; i < 1000; i++)
      if (pred(model.baseState(i, 1))) return `${model.BASE_PREFIX}${String(i).padStart(12, '0')}`;
    throw new Error('none');
  };
  const memberless = find((s) => !s.isPublic && s.member === 'none');
  const withMember = find((s) => !s.isPublic && s.member === 'alive');
  const untouched = find((s) => s.isPublic);
  assert.equal(L.expected(untouched).allowed, ['public']);
  // Old writer sets is_public false on an image without members: trigger 'shared', migrate 'private'.
  L.record(memberless, 'oldUpdate', false);
  assert.equal(L.expected(memberless).allowed, ['private', 'shared']);
  L.record(memberless, 'oldUpdate', true);
  assert.equal(L.expected(memberless).allowed, ['public']);
  // A member alive: shared either way; the image's delete soft-deletes it and opens both again.
  assert.equal(L.expected(withMember).allowed, ['shared']);
  L.record(withMember, 'delete', null);
  assert.equal(L.expected(withMember).allowed, ['private', 'shared']);
  // The new writer's visibility is what it wrote; a failed write may or may not have committed.
  L.record('new-1', 'newCreate', 'community');
  assert.equal(L.expected('new-1').allowed, ['community']);
  L.record('new-1', 'newUpdate', 'public', { ok: false });
  assert.equal(L.expected('new-1').allowed, ['community', 'public']);
  // An update that matched no row (already deleted) changes nothing.
  L.record('new-1', 'newUpdate', 'private', { changed: false });
  assert.equal(L.expected('new-1').allowed, ['community', 'public']);
  L.record('old-1', 'oldCreate', false);
  assert.equal(L.expected('old-1'), { allowed: ['shared'], mayBeAbsent: false });
  L.uncertainCreate('old-2', 'oldCreate', true);
  assert.equal(L.expected('old-2'), { allowed: ['public'], mayBeAbsent: true });
});

/** A strict enough XML check for generated SVG: balanced tags, quoted attributes, escaped text. */
function assertWellFormedSvg(svg: string) {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.not.match(svg, /NaN|undefined|Infinity/);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const text = svg.slice(i, lt < 0 ? svg.length : lt);
    assert.not.match(text, /[<>]|&(?!(amp|lt|gt|quot|apos);)/, `unescaped text: ${text}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    assert.ok(m, `malformed tag at ${lt}: ${svg.slice(lt, lt + 80)}`);
    const [, close, name, , self] = m!;
    if (close) assert.is(stack.pop(), name, `closing </${name}>`);
    else if (!self) stack.push(name);
    i = tag.lastIndex;
  }
  assert.equal(stack, []);
}

const run = (extra = {}) => ({
  durationMs: 12000,
  phases: [
    { name: 'expand', start: 2000, end: 3000, exit: 0 },
    { name: 'migrate', start: 3000, end: 8000, exit: 0 },
    { name: 'contract', start: 8000, end: 9000, exit: 0 },
  ],
  events: [
    { name: 'new client starts', t: 3000 },
    { name: 'old client retired', t: 8000 },
  ],
  series: [
    { t: 0, max: 2.5, n: 5, failed: 0 },
    { t: 100, max: 0.05, n: 3, failed: 0 },
    { t: 5000, max: 42000, n: 1, failed: 1 },
    { t: 11900, max: 3, n: 2, failed: 0 },
  ],
  ops: Object.fromEntries(
    ['all', 'get', 'list', 'create', 'update', 'delete'].map((k) => [
      k,
      { count: 10, failed: 0, p50: 1, p99: 5, max: 9, old: { count: 5, failed: 0 }, new: { count: 5, failed: 0 } },
    ]),
  ),
  stall: { ms: 40, gap: { ms: 40, at: 100 }, longestOp: { ms: 9, at: 0, op: 'old get' } },
  check: { ok: true, mismatches: 0, touched: 12, ambiguous: 3, examples: [] },
  verify: { ok: true, version: 51, text: 'matches 51' },
  ...extra,
});

test('chart: well-formed SVG for runs, a skipped path, hostile labels and no runs at all', () => {
  const svg = chart.rollingChart({
    images: 20000,
    rate: 50,
    servers: {
      postgresql: {
        sync: run({ phases: [{ name: 'sync <&> "x"', start: 1000, end: 4000, exit: 0 }] }),
        rolling: run(),
      },
      'my&sql': { sync: run(), rolling: { skipped: 'expand/migrate/contract not available in this build' } },
    },
  });
  assertWellFormedSvg(svg);
  assert.match(svg, /skipped: expand\/migrate\/contract not available in this build/);
  assert.match(svg, /sync &lt;&amp;&gt; &quot;x&quot;/);
  for (const p of ['expand', 'migrate', 'contract', 'old client retired']) assert.ok(svg.includes(`>${p}<`), p);
  // 42 s on the log scale: the axis reaches 100 s.
  assert.match(svg, />100 s</);
  // A phase that failed says so on the chart.
  assert.match(
    chart.rollingChart({
      servers: { mysql: { sync: run({ phases: [{ name: 'sync', start: 1000, end: 2000, exit: 7 }] }) } },
    }),
    />sync \(failed, exit 7\)</,
  );
  assertWellFormedSvg(chart.rollingChart({ servers: {} }));
  assertWellFormedSvg(chart.rollingChart({ servers: { postgresql: { sync: run({ series: [] }) } } }));
});

test('report: the section states the goal and verdicts, says "skipped" rather than inventing figures, and replaces itself in place', () => {
  const results = {
    when: '2026-11-26T10:00:00Z',
    images: 1000000,
    seed: 1,
    rate: 50,
    poolSize: 4,
    warmS: 5,
    tailS: 5,
    servers: {
      postgresql: {
        sync: run({
          ops: {
            ...run().ops,
            all: { count: 100, failed: 12, p99: 900, max: 21000, old: { failed: 12 }, new: { failed: 0 } },
          },
        }),
        rolling: run({ before: { p99: 2.5 } }),
      },
      mysql: { sync: run(), rolling: { skipped: 'expand/migrate/contract not available in this build' } },
    },
  };
  const section = report.rollingSection(results);
  assert.ok(section.startsWith(report.BEGIN) && section.endsWith(report.END));
  assert.match(section, /zero failed operations, p99 under 100 ms, longest stall under 1 s/);
  assert.match(
    section,
    /\| postgresql \| `expand`, `migrate`, `contract` \| 7000 ms \| 0 of 10 \| 5\.0 ms \| 9\.0 ms \| .* \| met \| 2\.5 ms \|$/m,
  );
  assert.match(section, /\| postgresql \| `sync` \| .* \| 12 of 100 \(old 12, new 0\) \| 900 ms \| 21\.0 s \|/);
  assert.match(
    report.rollingSection({
      ...results,
      servers: {
        mysql: {
          rolling: run({ ops: { ...run().ops, all: { count: 10, failed: 0, deadlockRetried: 2, p99: 5, max: 9 } } }),
        },
      },
    }),
    /\| 0 of 10; 2 retried after a deadlock \|/,
  );
  assert.match(section, /\| mysql \| rolling \| skipped: expand\/migrate\/contract not available in this build \|/);
  const bad = report.rollingSection({
    ...results,
    servers: {
      postgresql: {
        rolling: run({ stall: { ms: 1500, gap: { ms: 1500, at: 3 }, longestOp: { ms: 9, at: 0, op: 'old get' } } }),
      },
    },
  });
  assert.match(bad, /\*\*not met\*\* \(stall\)/);
  const doc = '# Performance\n\nintro\n\n## Rerun\n\nsteps\n';
  const once = report.spliceSection(doc, section);
  assert.ok(once.indexOf(report.BEGIN) > once.indexOf('intro') && once.indexOf(report.END) < once.indexOf('## Rerun'));
  const twice = report.spliceSection(once, 'NEW');
  assert.is(twice, once.replace(section, 'NEW'));
  assert.is(report.spliceSection('# P\n', section), `# P\n\n${section}\n`);
});

test.run();
