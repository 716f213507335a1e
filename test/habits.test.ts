// Operators' habits (issue 21, and issue 16 item 10): standard input,
// the default database, help and errors, JSON shapes, targets by release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { cli, makeProject, removeProject, sqliteRows, LATEST } from './helpers.js';

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

withProject('standard input is never read as VERSION: `echo 44 | glance-db sync` goes to the newest version', async (dir, db) => {
  const r = cli(['sync'], { cwd: dir, input: '44\n' });
  assert.is(r.code, 0, r.stderr);
  assert.is(await maxVersion(db), LATEST);
  const p = cli(['plan', '--dialect', 'sqlite'], { cwd: dir, input: '43\n' });
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stdout, new RegExp(`\\b${LATEST}\\b`));
});

withProject('a file on standard input is neither an argument nor echoed (it may hold a password)', async (dir, db) => {
  const secret = 'postgresql:/glance:Sup3rS3cret@db/glance\nsecond line S3condS3cret\n';
  for (const args of [['sync'], ['upgrade', String(LATEST)], ['downgrade'], ['version']]) {
    const r = cli(args, { cwd: dir, input: secret });
    assert.not.match(r.stdout + r.stderr, 'S3cret', `${args.join(' ')} echoed standard input`);
    assert.not.match(r.stdout + r.stderr, 'whole number', `${args.join(' ')} parsed standard input`);
  }
  assert.is(await maxVersion(db), LATEST);
});

test.run();
