// Glance's rules that need no database: the Ocata finish computed again for a
// resume (src/glance/ocata.ts), and the legacy migrate_version number Glance's
// bookkeeping keeps (src/glance/revisions.ts, bookkeeping.ts, heads.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../src/dialects/index.js';
import { loadSnapshot } from '../src/core/introspect/snapshot.js';
import { finishOcata, finishOcataResumed } from '../src/glance/ocata.js';
import { statementHash } from '../src/platform/checksum.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bookkeepingStatements } from '../src/glance/bookkeeping.js';
import { glanceBookkeeping } from '../src/glance/heads.js';
import { fromMigrateVersion } from '../src/glance/detect.js';
import { CONTRACT_CHAIN, LAST_LEGACY_VERSION, legacyNumber } from '../src/glance/revisions.js';
import { newVersionRow } from '../src/core/driver/version-table.js';
import { ROOT } from './helpers.js';

// As glance-manage's expand leaves images (is_public and its index still there), and as the contract's ALTER does.
const withIsPublic = loadSnapshot('mysql', 44);
const target = loadSnapshot('mysql', 50);
const afterAlter = target;
const hashes = (statements: string[], n: number) => statements.slice(0, n).map(statementHash);

test('finishOcataResumed: killed after the ALTER that drops is_public, the statements that ran come out the same', () => {
  const first = finishOcata('mysql', withIsPublic, target).statements;
  assert.is(first.length, 4);
  assert.match(first[2], 'WHEN i.is_public = 1 THEN');
  assert.match(first[3], 'DROP COLUMN is_public');
  // Computed from the schema the ALTER left, the UPDATE that ran before it changes: no public flag.
  assert.is.not(finishOcata('mysql', afterAlter, target).statements[2], first[2]);
  const resumed = finishOcataResumed('mysql', afterAlter, target, hashes(first, 3));
  assert.equal(resumed.statements, first);
  assert.ok(resumed.fromIsPublic);
});

test('finishOcataResumed: nothing ran, is_public still there, or no form matches what ran: the live form', () => {
  const live = finishOcata('mysql', afterAlter, target);
  assert.equal(finishOcataResumed('mysql', afterAlter, target, []), live);
  const first = finishOcata('mysql', withIsPublic, target);
  assert.equal(finishOcataResumed('mysql', withIsPublic, target, hashes(first.statements, 3)), first);
  // Statements that ran and match neither form: the live one, whose hashes resume refuses (core/resume.ts).
  assert.equal(finishOcataResumed('mysql', afterAlter, target, ['0000000000000000']), live);
  // What ran before the ALTER computed from a schema without is_public (a Glance contract that dropped it): the same.
  assert.equal(finishOcataResumed('mysql', afterAlter, target, hashes(live.statements, 3)), live);
});

// docs/reference/version-line.md's version table (npm run docs): version and legacy number ('-': none) of every row.
const LEGACY_COLUMN = [
  ...readFileSync(join(ROOT, 'docs', 'reference', 'version-line.md'), 'utf8').matchAll(
    /^\| (\d+) \|.*\| (\d+|-) \|$/gm,
  ),
].map((m) => [Number(m[1]), m[2] === '-' ? null : Number(m[2])] as const);

test("legacyNumber: Ocata's contract is the last legacy number; 42 to it keep theirs, later versions stay at it", () => {
  assert.is(LAST_LEGACY_VERSION, 45);
  assert.equal(
    LEGACY_COLUMN.map(([v]) => v),
    [...new Set(CONTRACT_CHAIN.map(([, v]) => v))],
  );
  for (const [version, legacy] of LEGACY_COLUMN) {
    assert.is(legacy === null, version > LAST_LEGACY_VERSION, `version ${version}: legacy number ${legacy}`);
    assert.is(legacyNumber(version), legacy ?? LAST_LEGACY_VERSION, `version ${version}`);
  }
  assert.throws(() => fromMigrateVersion(LAST_LEGACY_VERSION + 1), /46/);
  assert.is(fromMigrateVersion(LAST_LEGACY_VERSION).version, 45);
});

test('bookkeeping after each version: migrate_version, where the database still has it, gets the legacy number', () => {
  for (const [version] of LEGACY_COLUMN) {
    const withLegacy = bookkeepingStatements(version, 'mysql', true);
    assert.is(withLegacy[withLegacy.length - 1], `UPDATE migrate_version SET version = ${Math.min(version, 45)}`);
    assert.not.ok(bookkeepingStatements(version, 'mysql', false).some((x) => x.includes('migrate_version')));
    // The same number where a phase's step writes it (glance/heads.ts), the rows complete up to that version.
    const rows = LEGACY_COLUMN.filter(([v]) => v <= version).map(([v]) =>
      newVersionRow(
        { toolVersion: '0' },
        { version: v, name: 'v', dialect: 'mysql', checksum: 'x', kind: 'applied', statementsTotal: 0 },
      ),
    );
    const phase = glanceBookkeeping(rows, 'mysql', true);
    assert.is(phase[phase.length - 1], `UPDATE migrate_version SET version = ${Math.min(version, 45)}`);
  }
});

test.run();
