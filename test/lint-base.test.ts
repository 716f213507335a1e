// Issue 32, item 3 (from item 11): a draft version recorded by
// `lint --update` could never be recorded again while its pull request was
// open (lint: "released file changed"; a hand edit of the lock is refused),
// and MySQL's resume path, which asks for the failed statement to be fixed in
// the file, led into the same trap. `lint --update --base REF` records again
// the versions REF's sql/checksums.lock does not hold (read with git, no
// shell), as Atlas's `migrate lint --git-base` does; released ones stay
// frozen, and `lint --base REF` in CI also catches a lock edited by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mysqlEnv, withDb } from './dialects.js';
import { cli, extraVersion, LATEST, makeProject, removeProject, runCli } from './helpers.js';

const NEXT = LATEST + 1;
const git = (dir: string, args: string[]) => {
  const r = spawnSync(
    'git',
    ['-c', 'user.name=glance-db test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args],
    { cwd: dir, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

/** A project in a git repository whose main branch has the shipped lock (no draft), and a branch adding version NEXT, recorded by lint --update. */
async function repoWithDraft(
  sql: string | Record<string, string>,
): Promise<{ dir: string; file: (d: string) => string }> {
  const dir = makeProject();
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'released']);
  git(dir, ['checkout', '-q', '-b', 'draft']);
  for (const [rel, content] of Object.entries(extraVersion(NEXT, 'draft_thing', sql)))
    writeFileSync(join(dir, rel), content);
  const rec = await runCli(['lint', '--update'], { cwd: dir });
  if (rec.code !== 0) throw new Error(rec.stderr);
  return { dir, file: (d) => join(dir, `sql/${d}/${NEXT}_draft_thing.sql`) };
}

test('a draft version edited after lint --update recorded it: lint refuses (the trap), lint --update --base main records it again; lint --base main then passes', async () => {
  const { dir, file } = await repoWithDraft('CREATE TABLE draft_thing (id INTEGER);\n');
  try {
    writeFileSync(file('sqlite'), 'CREATE TABLE draft_thing (id INTEGER, name VARCHAR(20));\n');
    for (const args of [['lint'], ['lint', '--update']]) {
      const r = await runCli(args, { cwd: dir });
      assert.is(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, `Released migration file(s) changed: sql/sqlite/${NEXT}_draft_thing.sql`);
    }
    // A real process; the other lint runs are in process (test/run-cli-sqlite.test.ts).
    const check = cli(['lint', '--base', 'main', '--json'], { cwd: dir });
    assert.is(check.code, 3, check.stdout);
    assert.equal(
      [JSON.parse(check.stdout).error.drafts, JSON.parse(check.stdout).error.base],
      [[`${NEXT} sqlite`], 'main'],
    );
    assert.match(JSON.parse(check.stdout).error.hint, 'glance-db lint --update --base main');

    const r = await runCli(['lint', '--update', '--base', 'main'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      `recorded again ${NEXT} sqlite (not released at main) in sql/checksums.lock; nothing released at main changed`,
    );
    const sum = createHash('sha256')
      .update(readFileSync(file('sqlite')))
      .digest('hex');
    assert.match(
      readFileSync(join(dir, 'sql/checksums.lock'), 'utf8'),
      `${NEXT} sqlite sql/sqlite/${NEXT}_draft_thing.sql sha256-lf:${sum}`,
    );
    assert.is((await runCli(['lint'], { cwd: dir })).code, 0);
    const j = JSON.parse((await runCli(['lint', '--base', 'main', '--json'], { cwd: dir })).stdout);
    assert.equal([j.ok, j.base, j.rerecorded], [true, 'main', []]);
    // A draft removed from the manifest is dropped from the lock the same way.
    writeFileSync(
      join(dir, 'glance-db.yaml'),
      readFileSync(join(dir, 'glance-db.yaml'), 'utf8').replace(
        /\n {2}- version: \d+\n {4}name: draft_thing[\s\S]*$/,
        '\n',
      ),
    );
    for (const d of ['sqlite', 'postgresql', 'mysql']) rmSync(file(d));
    assert.is((await runCli(['lint'], { cwd: dir })).code, 4, 'without --base a recorded version is released');
    assert.is((await runCli(['lint', '--update', '--base', 'main'], { cwd: dir })).code, 0);
    assert.is(
      readFileSync(join(dir, 'sql/checksums.lock'), 'utf8'),
      git(dir, ['show', 'main:sql/checksums.lock']) + '\n',
      "the lock is main's again",
    );
  } finally {
    removeProject(dir);
  }
});

test('lint --update --base main never records a released file again, and lint --base main catches a released entry changed in the lock by hand', async () => {
  const { dir } = await repoWithDraft('CREATE TABLE draft_thing (id INTEGER);\n');
  try {
    const released = join(dir, 'sql/mysql/047_add_os_hidden.sql');
    writeFileSync(released, readFileSync(released, 'utf8').replace('DEFAULT 0', 'DEFAULT 1'));
    const r = await runCli(['lint', '--update', '--base', 'main'], { cwd: dir });
    assert.is(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /Released migration file\(s\) changed: sql\/mysql\/047_add_os_hidden\.sql \(version 47: locked sha256-lf:[0-9a-f]{64} at main, now/,
    );
    // The same change with the lock's entry and sum rewritten by hand passes a plain lint, not lint --base.
    const lockFile = join(dir, 'sql/checksums.lock');
    const now = `sha256-lf:${createHash('sha256').update(readFileSync(released)).digest('hex')}`;
    const lines = readFileSync(lockFile, 'utf8')
      .split('\n')
      .map((l) => (l.startsWith('047 mysql ') ? l.replace(/sha256-lf:\w+$/, now) : l))
      .filter((l) => !l.startsWith('sum '));
    const entries = lines.filter((l) => /^(\d{3} |superseded )/.test(l));
    writeFileSync(
      lockFile,
      [
        ...lines.filter((l) => l.startsWith('#')),
        `sum sha256:${createHash('sha256')
          .update(entries.map((l) => `${l}\n`).join(''))
          .digest('hex')}`,
        ...entries,
        '',
      ].join('\n'),
    );
    assert.is((await runCli(['lint'], { cwd: dir })).code, 0, 'a consistent hand edit fools a plain lint');
    const ci = await runCli(['lint', '--base', 'main'], { cwd: dir });
    assert.is(ci.code, 4, ci.stderr);
    assert.match(ci.stderr, 'sql/mysql/047_add_os_hidden.sql (version 47: locked');
  } finally {
    removeProject(dir);
  }
});

test('lint --base: no git, a folder outside any repository, a ref git does not know, a commit without the lock, an option-like ref: clear errors (3, 3, 2, 3, 2)', async () => {
  const { dir } = await repoWithDraft('CREATE TABLE draft_thing (id INTEGER);\n');
  const bare = makeProject();
  try {
    const noGit = await runCli(['lint', '--base', 'main'], { cwd: dir, env: { PATH: '/nonexistent' } });
    assert.is(noGit.code, 3, noGit.stderr);
    assert.match(noGit.stderr, 'error: lint --base needs git, and there is no git on PATH.');
    const outside = mkdtempSync(join(tmpdir(), 'glance-db-nogit-'));
    try {
      const noRepo = await runCli(['lint', '--base', 'main', '--config', join(bare, 'glance-db.yaml')], {
        cwd: outside,
        env: { GIT_CEILING_DIRECTORIES: tmpdir() },
      });
      assert.is(noRepo.code, 3, noRepo.stderr);
      assert.match(noRepo.stderr, /lint --base needs the git repository .* is in, and git says: not a git repository/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    const badRef = await runCli(['lint', '--base', 'origin/mian'], { cwd: dir });
    assert.is(badRef.code, 2, badRef.stderr);
    assert.match(badRef.stderr, '--base origin/mian: git knows no commit by that name');
    // A repository whose commit has no lock (the lock is only in the working tree).
    git(bare, ['init', '-q', '-b', 'main']);
    git(bare, ['add', '-A']);
    git(bare, ['rm', '-q', '--cached', 'sql/checksums.lock']);
    git(bare, ['commit', '-q', '-m', 'before the lock']);
    const noLock = await runCli(['lint', '--base', 'main'], { cwd: bare });
    assert.is(noLock.code, 3, noLock.stderr);
    assert.match(noLock.stderr, '--base main: that commit has no sql/checksums.lock next to the manifest');
    const option = await runCli(['lint', '--base=--output=/tmp/x'], { cwd: dir });
    assert.is(option.code, 2, option.stderr);
    const supersedeAlone = await runCli(['lint', '--supersede', '45'], { cwd: dir });
    assert.is(supersedeAlone.code, 2, supersedeAlone.stderr);
  } finally {
    removeProject(dir);
    removeProject(bare);
  }
});

test('mysql: a draft version partly applied, its failed statement fixed in the file: lint refuses the edit, lint --update --base main records it, sync resumes at that statement', async () => {
  if (!mysqlEnv.available()) return console.log('  SKIP: mysql not reachable');
  const broken = `CREATE TABLE draft_thing (id INTEGER);\nINSERT INTO draft_thing_typo (id) VALUES (1);\nCREATE TABLE draft_other (id INTEGER);\n`;
  const { dir, file } = await repoWithDraft(broken);
  try {
    await withDb(mysqlEnv, async (db) => {
      const first = await runCli(['sync', '--url', db.url], { cwd: dir });
      assert.is(first.code, 7, first.stderr);
      assert.match(first.stderr, 'it resumes at statement 2');
      // Editing a statement that already ran is still refused on resume, released or not.
      writeFileSync(file('mysql'), broken.replace('(id INTEGER);\nINSERT', '(id BIGINT);\nINSERT'));
      assert.is((await runCli(['sync', '--url', db.url], { cwd: dir })).code, 4);
      // The fix the hint asks for: the failed statement.
      writeFileSync(file('mysql'), broken.replace('draft_thing_typo', 'draft_thing'));
      const trap = await runCli(['lint'], { cwd: dir });
      assert.is(trap.code, 4, trap.stderr);
      assert.match(trap.stderr, `Released migration file(s) changed: sql/mysql/${NEXT}_draft_thing.sql`);
      assert.is((await runCli(['lint', '--update', '--base', 'main'], { cwd: dir })).code, 0);
      assert.is((await runCli(['lint'], { cwd: dir })).code, 0);
      const resumed = await runCli(['sync', '--url', db.url], { cwd: dir });
      assert.is(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, `applied ${NEXT} draft_thing`);
      assert.equal(
        (await db.rows('SELECT id FROM draft_thing')).map((r) => Number(r.id)),
        [1],
      );
      const h = JSON.parse((await runCli(['history', '--url', db.url, '--json'], { cwd: dir })).stdout).versions.find(
        (v: { version: number }) => v.version === NEXT,
      );
      assert.equal([h.kind, h.file], ['applied', 'unchanged']);
    });
  } finally {
    removeProject(dir);
  }
});

test.run();
