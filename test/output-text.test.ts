// Text output (issue 32): control characters the database holds are shown
// escaped, never sent raw to a terminal (--json keeps the exact value); a
// reader that goes away (| head, grep -q) ends nothing; and the hint for "No
// database named" suggests something that works.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cleanEnv, cli, LATEST, runCli } from './helpers.js';

/** Raw control characters a terminal acts on (line breaks and tabs of the layout aside). */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const sqlite3 = (db: string, sql: string) => {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
};

function withDir(name: string, fn: (dir: string) => Promise<void> | void) {
  test(name, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-db-text-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

withDir(
  'control characters from the version table: history shows them escaped, one line per row; --json keeps the exact value',
  async (dir) => {
    const db = join(dir, 'g.sqlite');
    assert.is((await runCli(['sync', '45', '--url', `sqlite:${db}`])).code, 0);
    // A carriage return that would overwrite the row, a title-setting escape, a C1 CSI, and a line break that would fake a row.
    sqlite3(
      db,
      "UPDATE glance_db_version SET name = name || char(13) || 'XX', run_by = 'a' || char(27) || ']0;pwned' || char(7), note = 'n' || char(155) || '2J' || char(10) || '46 fake_row' WHERE version = 43",
    );
    const h = await runCli(['history', '--url', `sqlite:${db}`]);
    assert.is(h.code, 0, h.stderr);
    assert.not.match(h.stdout, RAW_CONTROL, 'no raw control character on stdout');
    assert.match(h.stdout, 'add_image_created_updated_idx\\rXX');
    assert.match(h.stdout, 'a\\e]0;pwned\\x07');
    assert.match(h.stdout, 'version 43 note: n\\u009b2J\\n46 fake_row');
    assert.is(
      h.stdout.split('\n').filter((l) => /^4\d /.test(l)).length,
      4,
      `one line per row (42-45), the note's line break shown, not obeyed:\n${h.stdout}`,
    );
    const j = await runCli(['history', '--url', `sqlite:${db}`, '--json']);
    const row = (
      JSON.parse(j.stdout).versions as { version: number; name: string; runBy: string; note: string }[]
    ).find((v) => v.version === 43)!;
    assert.equal(
      [row.name, row.runBy, row.note],
      ['add_image_created_updated_idx\rXX', 'a\u001b]0;pwned\u0007', 'n\u009b2J\n46 fake_row'],
    );
    assert.not.match(
      j.stdout,
      RAW_CONTROL,
      'the JSON text itself carries no raw control character (C1 written as \\u009b)',
    );
  },
);

withDir(
  "control characters in the live schema and in Glance's bookkeeping: verify, check and the error paragraph show them escaped",
  async (dir) => {
    const db = join(dir, 'g.sqlite');
    assert.is((await runCli(['sync', '45', '--url', `sqlite:${db}`])).code, 0);
    sqlite3(db, 'CREATE TABLE "x\ry\u001b[2J" (id INTEGER)');
    const v = await runCli(['verify', '--url', `sqlite:${db}`]);
    assert.is(v.code, 12, v.stderr);
    assert.match(v.stdout, 'unexpected table x\\ry\\e[2J');
    assert.not.match(v.stdout + v.stderr, RAW_CONTROL);
    // A database glance-manage built whose alembic_version holds a revision with control characters: the error quotes it.
    const gm = join(dir, 'gm.sqlite');
    assert.is((await runCli(['sync', '44', '--url', `sqlite:${gm}`])).code, 0);
    sqlite3(
      gm,
      "DROP TABLE glance_db_version; UPDATE alembic_version SET version_num = 'zed' || char(13) || char(27) || '[2Jx'",
    );
    for (const cmd of ['version', 'check']) {
      const r = await runCli([cmd, '--url', `sqlite:${gm}`]);
      assert.is(r.code, 11, r.stderr);
      assert.match(r.stderr, 'alembic_version holds revision "zed\\r\\e[2Jx"');
      assert.not.match(r.stdout + r.stderr, RAW_CONTROL, `${cmd}: no raw control character`);
    }
    const j = await runCli(['check', '--url', `sqlite:${gm}`, '--json']);
    assert.is(JSON.parse(j.stdout).error.revision, 'zed\r\u001b[2Jx');
  },
);

/** Runs the CLI with stdout and stderr on pipes whose reader goes away after `keep` bytes (0: before anything is written). */
function readerGone(
  args: string[],
  keep: number,
): Promise<{ code: number | null; signal: string | null; got: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let got = '';
    const close = () => {
      child.stdout.destroy();
      child.stderr.destroy();
    };
    if (keep === 0) close();
    else {
      child.stdout.on('data', (d) => {
        got += d;
        if (got.length >= keep) close();
      });
      child.stderr.on('data', (d) => (got += d));
    }
    child.on('exit', (code, signal) => resolve({ code, signal, got }));
  });
}

withDir(
  'a reader that goes away ends nothing: a sync whose stdout and stderr are closed pipes finishes, exit 0, no lock file left',
  async (dir) => {
    const db = join(dir, 'g.sqlite');
    const r = await readerGone(['sync', '--url', `sqlite:${db}`], 0);
    assert.equal([r.code, r.signal], [0, null]);
    assert.is(cli(['version', '--url', `sqlite:${db}`]).stdout, `${LATEST}\n`);
    assert.equal(readdirSync(dir), ['g.sqlite'], 'no lock or temporary file left');
  },
);

test('| head on a command that prints a lot: exit 0, nothing on stderr (a real shell pipeline, and a reader closing after the first chunk)', async () => {
  for (const cmd of ['plan --dialect mysql', 'versions', 'history --help']) {
    const r = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" ${cmd} | head -1 >/dev/null; echo "exit \${PIPESTATUS[0]}" >&2`],
      { env: cleanEnv(), encoding: 'utf8' },
    );
    assert.is(r.stderr, 'exit 0\n', cmd);
  }
  const big = await readerGone(['plan', '--dialect', 'mysql'], 1);
  assert.equal([big.code, big.signal], [0, null]);
  assert.not.match(big.got, /error|EPIPE/);
});

withDir(
  "no database named, and Glance's config sets no connection: the hint names what works, not that file again",
  async (dir) => {
    const etc = join(dir, 'etc-glance');
    spawnSync('mkdir', ['-p', etc]);
    const conf = join(etc, 'glance-api.conf');
    writeFileSync(conf, '[DEFAULT]\ndebug = true\n');
    const env = { GLANCE_DB_GLANCE_CONFIG_DIRS: etc };
    const r = await runCli(['version'], { cwd: dir, env });
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, `error: No database named: Glance's config (${conf}) sets no [database] connection`);
    const hint = /^hint: (.*)$/m.exec(r.stderr)![1];
    assert.not.match(
      hint,
      /--glance-config \S+glance-api\.conf/,
      `the hint suggests a config file that sets no connection: ${hint}`,
    );
    assert.match(hint, `Set [database] connection in ${conf}`);
    // Doing what it says works.
    appendFileSync(conf, `[database]\nconnection = sqlite:////${join(dir, 'glance.sqlite').replace(/^\//, '')}\n`);
    const done = await runCli(['sync', '44'], { cwd: dir, env });
    assert.is(done.code, 0, done.stderr);
    assert.ok(existsSync(join(dir, 'glance.sqlite')));
    // With no Glance config at all: no path of a file that is not there.
    const none = await runCli(['version'], { cwd: dir, env: { GLANCE_DB_GLANCE_CONFIG_DIRS: join(dir, 'missing') } });
    assert.is(none.code, 3);
    assert.not.match(none.stderr, '--glance-config /etc/glance/glance-api.conf');
    assert.match(none.stderr, /hint: Name the database: --url /);
  },
);

test.run();
