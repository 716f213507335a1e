// Glance's rules that need no database: the Ocata finish computed again for a
// resume (src/glance/ocata.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../src/dialects/index.js';
import { loadSnapshot } from '../src/core/introspect/snapshot.js';
import { finishOcata, finishOcataResumed } from '../src/glance/ocata.js';
import { statementHash } from '../src/platform/checksum.js';

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

test.run();
