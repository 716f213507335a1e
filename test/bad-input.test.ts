// Runs the bad-input corpus (test/fixtures/bad-input.ts) through the built
// CLI: each case must give its documented exit code and message, no stack
// trace, and leave its database byte-for-byte (SQLite) or dump-for-dump
// (servers) as it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BAD_INPUTS, type BadInput } from './fixtures/bad-input.js';
import { mysqlEnv, postgresEnv, sqliteEnv, type DialectEnv, type TestDb } from './dialects.js';
import { cli, makeProject, removeProject, ROOT, runCli } from './helpers.js';
import { dumpDatabase, type ServerDialect } from './servers.js';

const envs: Record<string, DialectEnv> = { sqlite: sqliteEnv, postgresql: postgresEnv, mysql: mysqlEnv };

/** A dump that changes whenever the database does. */
export function dumpOf(db: TestDb, dialect: string): string {
  const name = db.url.replace(/^.*\/([^/?]+)(\?.*)?$/, '$1');
  if (dialect === 'sqlite') {
    const file = db.url.slice('sqlite:'.length);
    return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
  }
  return dumpDatabase(dialect as ServerDialect, name);
}

/** real: the command as a process (a few cases); the others in process (test/run-cli-sqlite.test.ts). */
async function runCase(c: BadInput, real = false): Promise<void> {
  const shipped = readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8');
  const dir = makeProject({ ...(c.manifest ? { 'glance-db.yaml': c.manifest(shipped) } : {}) });
  for (const [rel, content] of Object.entries(c.files ?? {})) {
    if (content === null) makeProjectDelete(dir, rel);
    else {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), content);
    }
  }
  c.prepare?.(dir);
  const lockBefore = statSync(join(dir, 'sql', 'checksums.lock'), { throwIfNoEntry: false })?.isFile()
    ? readFileSync(join(dir, 'sql', 'checksums.lock'), 'utf8')
    : null;
  const db = c.db ? await envs[c.db].create() : null;
  try {
    if (db && c.at) assert.is((await runCli(['sync', String(c.at), '--url', db.url])).code, 0);
    if (db && c.setup) await db.exec(c.setup);
    const before = db ? dumpOf(db, c.db!) : 'absent';
    const r = await (real ? async (...a: Parameters<typeof cli>) => cli(...a) : runCli)(
      c.args.map((a) => (a === '{db}' ? db!.url : a)),
      { cwd: dir, env: c.env },
    );
    assert.is(r.code, c.code, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.not.match(r.stderr + r.stdout, /\n\s+at |node:internal/, 'no stack trace');
    assert.is(
      r.stderr
        .trim()
        .split('\n')
        .filter(
          (l) =>
            !/^(error|hint|progress|warning): /.test(l) &&
            !/^\S+:\d+: /.test(l) &&
            !/^\.\.\. and \d+ more$/.test(l) &&
            l.trim(),
        ).length,
      0,
      `one paragraph: ${r.stderr}`,
    );
    // Bounded output: a capped list, never one line per problem of a huge input.
    assert.ok(r.stderr.split('\n').length <= 30, `at most 30 lines: ${r.stderr.split('\n').length}`);
    if (c.args[0] === 'lint' && lockBefore !== null)
      assert.is(readFileSync(join(dir, 'sql', 'checksums.lock'), 'utf8'), lockBefore, 'checksums.lock unchanged');
    if (db) assert.is(dumpOf(db, c.db!), before, 'database unchanged');
    else assert.not.ok(existsSync(join(dir, 'glance.sqlite')), 'no database created');
  } finally {
    await db?.drop();
    removeProject(dir);
  }
}

function makeProjectDelete(dir: string, rel: string): void {
  spawnSync('rm', ['-rf', join(dir, rel)]);
}

test('the corpus has at least 50 cases', () => {
  assert.ok(BAD_INPUTS.length >= 50, String(BAD_INPUTS.length));
});

for (const [i, c] of BAD_INPUTS.entries()) {
  if (c.db && c.db !== 'sqlite' && !envs[c.db].available()) continue;
  // Every 25th case as a real process (exit code and stdout/stderr split are the contract), the rest in process.
  test(`bad input: ${c.name}`, async () => await runCase(c, i % 25 === 0));
}

test.run();
