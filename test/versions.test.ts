// Keeps the "Adding a version" checklist (docs/contributing/adding-a-version.md) honest: every version of the
// shipped manifest has each of the six things the checklist names, down to
// its row in docs/reference/version-line.md, which `npm run docs` writes (docs-unit fails while it is stale).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest } from '../src/core/manifest/load.js';
import { readLock } from '../src/core/checksums-lock.js';
import { CONTRACT_CHAIN, REVISION_FOR_VERSION } from '../src/glance/revisions.js';
import { glanceRevisionCell, legacyCell, VERSION_LINE } from '../src/cli/reference-versions.js';
import { ROOT, VERSIONS } from './helpers.js';

const manifest = loadManifest(join(ROOT, 'glance-db.yaml'));
const checklist = readFileSync(join(ROOT, 'docs', 'contributing', 'adding-a-version.md'), 'utf8');
const versionLine = readFileSync(join(ROOT, 'docs', 'glance-versions.md'), 'utf8');
const versionLinePage = readFileSync(join(ROOT, 'docs', 'reference', 'version-line.md'), 'utf8');
const generatedTable = versionLinePage.slice(
  versionLinePage.indexOf(VERSION_LINE.begin),
  versionLinePage.indexOf(VERSION_LINE.end),
);

test('docs/contributing/adding-a-version.md lists the checklist this test enforces', () => {
  assert.match(checklist, '# Adding a version');
  for (const step of [
    'lint --update',
    'CONTRACT_CHAIN',
    'GLANCE_RELEASES',
    'test/fixtures/reference/vN',
    'npm run snapshots',
    'DATA_MIGRATIONS',
    'npm run docs',
  ])
    assert.match(checklist, step);
});

for (const mig of manifest.migrations) {
  const v = mig.version;
  test(`version ${v} (${mig.name}) has every piece the checklist names`, () => {
    const lock = readLock(manifest);
    for (const d of manifest.dialects) {
      const file = mig.files[d]!;
      assert.ok(existsSync(join(ROOT, file)), `1. ${file}`);
      assert.match(
        file,
        new RegExp(`^sql/${d}/${String(v).padStart(3, '0')}_${mig.name}\\.sql$`),
        '1. file name NNN_name.sql',
      );
      assert.is(lock.get(`${v} ${d}`)?.file, file, `3. sql/checksums.lock records ${v} ${d}`);
      assert.ok(
        existsSync(join(ROOT, 'test', 'fixtures', 'reference', `v${v}`, `${d}.sql`)),
        `5. reference v${v}/${d}.sql`,
      );
      assert.ok(existsSync(join(ROOT, 'schema', 'expected', d, `v${v}.json`)), `5. schema/expected/${d}/v${v}.json`);
    }
    assert.ok(
      CONTRACT_CHAIN.some(([, n]) => n === v),
      `4. a Glance revision for ${v} in CONTRACT_CHAIN`,
    );
    assert.ok(REVISION_FOR_VERSION[v], `4. REVISION_FOR_VERSION[${v}]`);
    assert.match(
      generatedTable,
      new RegExp(`^\\| ${v} \\| ${mig.name} \\| .*\`${REVISION_FOR_VERSION[v]}\``, 'm'),
      `6. npm run docs: docs/reference/version-line.md's generated row for ${v}`,
    );
    assert.ok(
      generatedTable.includes(`| ${v} | ${mig.name} | ${glanceRevisionCell(mig)} | ${legacyCell(v)} |\n`),
      `6. npm run docs: the row for ${v} is the one the generator writes now`,
    );
  });
}

test('the version table is generated: version-line.md has its markers, glance-versions.md keeps no rows of its own', () => {
  assert.ok(versionLinePage.indexOf(VERSION_LINE.begin) >= 0, VERSION_LINE.begin);
  assert.ok(versionLinePage.indexOf(VERSION_LINE.end) > versionLinePage.indexOf(VERSION_LINE.begin), VERSION_LINE.end);
  assert.match(versionLine, '](reference/version-line.md)');
  assert.not.match(versionLine, /^\| \d+ \| [a-z_]+ \|/m, 'a hand-kept row in docs/glance-versions.md');
});

test('tests add a version after the newest as NEXT, never as a number (version 52 collided with a real 52)', () => {
  for (const f of readdirSync(join(ROOT, 'test')).filter((n) => n.endsWith('.ts')))
    assert.not.match(readFileSync(join(ROOT, 'test', f), 'utf8'), /extraVersion\(\s*\d/, `test/${f}`);
});

test('the manifest and the tests agree on the versions', () => {
  assert.equal(
    manifest.migrations.map((m) => m.version),
    VERSIONS,
  );
});

test.run();
