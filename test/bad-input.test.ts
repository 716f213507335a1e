// Runs the bad-input corpus (test/fixtures/bad-input.ts) through the built
// CLI: each case must give its documented exit code and message, no stack
// trace, and leave its database byte-for-byte (SQLite) or dump-for-dump
// (servers) as it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BAD_INPUTS, type BadInput } from './fixtures/bad-input.js';
import { mysqlEnv, postgresEnv, sqliteEnv, type DialectEnv, type TestDb } from './dialects.js';
import { cli, makeProject, removeProject, ROOT } from './helpers.js';

const envs: Record<string, DialectEnv> = { sqlite: sqliteEnv, postgresql: postgresEnv, mysql: mysqlEnv };

/** A dump that changes whenever the database does. */
export function dumpOf(db: TestDb, dialect: string): string {
  const name = db.url.replace(/^.*\/([^/?]+)(\?.*)?$/, '$1');
  if (dialect === 'sqlite') {
    const file = db.url.slice('sqlite:'.length);
    return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';
  }
  const r = dialect === 'postgresql'
    ? spawnSync('pg_dump', ['-h', '127.0.0.1', '-U', 'postgres', '--no-owner', name], { encoding: 'utf8' })
    : spawnSync('mariadb-dump', ['--protocol=tcp', '-h', '127.0.0.1', '-u', 'root', '--skip-dump-date', '--skip-comments', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  // pg_dump 15.14+ brackets its output with a random \restrict key.
  return r.stdout.replace(/^\\(un)?restrict .*$/gm, '');
}

async function runCase(c: BadInput): Promise<void> {
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
  const db = c.db ? await envs[c.db].create() : null;
  try {
    if (db && c.at) assert.is(cli(['sync', String(c.at), '--url', db.url]).code, 0);
    if (db && c.setup) await db.exec(c.setup);
    const before = db ? dumpOf(db, c.db!) : 'absent';
    const r = cli(c.args.map((a) => (a === '{db}' ? db!.url : a)), { cwd: dir, env: c.env });
    assert.is(r.code, c.code, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.not.match(r.stderr + r.stdout, /\n\s+at |node:internal/, 'no stack trace');
    assert.is(r.stderr.trim().split('\n').filter((l) => !/^(error|hint|progress): /.test(l) && !/^\S+:\d+: /.test(l) && l.trim()).length, 0, `one paragraph: ${r.stderr}`);
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

for (const c of BAD_INPUTS) {
  if (c.db && c.db !== 'sqlite' && !envs[c.db].available()) continue;
  test(`bad input: ${c.name}`, () => runCase(c));
}

test.run();
