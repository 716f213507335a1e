// `check`'s states (issue 17, "one error class per condition"): each refusal
// of the version table gets its own state with the exit code it always had,
// and every state's --json output matches schema/output.schema.json.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, makeProject, openSqlite, removeProject, sqliteRows, runCli } from './helpers.js';

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

const fileOf = (dir: string, version: number) =>
  join(
    dir,
    'sql',
    'sqlite',
    readdirSync(join(dir, 'sql', 'sqlite')).find((f) => f.startsWith(`0${version}_`))!,
  );

withProject(
  'check: an applied version whose SQL file became unusable is migration-file-unusable (exit 3), not unknown-version; sync --dry-run refuses it alike',
  async (dir, db) => {
    assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
    // Binary content passes the manifest's load-time checks (a missing file does not) and fails when the file is read.
    writeFileSync(fileOf(dir, 43), Buffer.from('CREATE TABLE x (id INT);\0\n'));
    // A real process; the other runs here are in process (test/run-cli-sqlite.test.ts).
    const r = cli(['check'], { cwd: dir });
    assert.is(r.code, 3, r.stderr);
    assert.match(
      r.stdout,
      /^migration-file-unusable: sql\/sqlite\/043_\S+ \(version 43\) is a binary file, not SQL\.$/m,
    );
    const j = JSON.parse((await runCli(['check', '--json'], { cwd: dir })).stdout);
    assert.is(j.state, 'migration-file-unusable');
    assert.is(j.exitCode, 3);
    assert.is(j.current, 45);
    const dry = await runCli(['sync', '--dry-run'], { cwd: dir });
    assert.is(dry.code, 3, dry.stderr);
    assert.match(dry.stderr, /^error: migration-file-unusable: .*Nothing was changed \(dry run\)\./m);
    assert.is((await sqliteRows(db, 'SELECT max(version) AS v FROM glance_db_version'))[0].v, 45);
  },
);

withProject(
  'check: the states that were already precise keep their names and exit codes (unknown-version 11, checksum-drift 4)',
  async (dir, db) => {
    assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
    const sqlite = await openSqlite(db);
    sqlite.run(
      "INSERT INTO glance_db_version (version, name, dialect, checksum, kind, status, statements_applied, statements_total, applied_at, execution_ms, tool_version) SELECT 99, 'future', dialect, checksum, kind, status, statements_applied, statements_total, applied_at, execution_ms, '9.9.9' FROM glance_db_version WHERE version = 45",
    );
    writeFileSync(db, sqlite.export());
    const unknown = await runCli(['check', '--json'], { cwd: dir });
    assert.is(unknown.code, 11, unknown.stderr);
    assert.is(JSON.parse(unknown.stdout).state, 'unknown-version');
    sqlite.run('DELETE FROM glance_db_version WHERE version = 99');
    writeFileSync(db, sqlite.export());
    sqlite.close();
    writeFileSync(fileOf(dir, 44), `-- edited\n${readFileSync(fileOf(dir, 44), 'utf8')}`);
    const drift = await runCli(['check', '--json'], { cwd: dir });
    assert.is(drift.code, 4, drift.stderr);
    assert.is(JSON.parse(drift.stdout).state, 'checksum-drift');
  },
);

withProject(
  'check --json on a history gap is valid against the output schema (state history-gap, with gaps)',
  async (dir, db) => {
    assert.is((await runCli(['sync', '45'], { cwd: dir })).code, 0);
    const sqlite = await openSqlite(db);
    sqlite.run('DELETE FROM glance_db_version WHERE version = 43');
    writeFileSync(db, sqlite.export());
    sqlite.close();
    // cli() validates the object against schema/output.schema.json, whose check states lacked history-gap.
    const r = await runCli(['check', '--json'], { cwd: dir });
    assert.is(r.code, 16, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.is(j.state, 'history-gap');
    assert.equal(j.gaps, [43]);
  },
);

test.run();
