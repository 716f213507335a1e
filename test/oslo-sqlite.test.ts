// glance-manage's command lines on SQLite (test/oslo.ts), and the order of the
// sources that name the database: --url, --glance-config/--config-file (where
// OS_DATABASE__CONNECTION overrides the files, as oslo.config does),
// GLANCE_DB_URL, OS_DATABASE__CONNECTION, the manifest, Glance's default files.
// Two sources naming different databases: a notice says which won and why,
// never with a password.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, LATEST, makeProject, removeProject, runCli, sqliteRows } from './helpers.js';
import { sqliteEnv } from './dialects.js';
import { etcGlance, osloCommandLines } from './oslo.js';

osloCommandLines(sqliteEnv).run();

const at = async (file: string) =>
  Number((await sqliteRows(file, 'SELECT max(version) AS v FROM glance_db_version'))[0].v);

test('the order of the sources, each pair with its notice', async () => {
  const e = etcGlance();
  try {
    const db = (n: string) => join(e.dir, `${n}.sqlite`);
    writeFileSync(join(e.etc, 'glance-api.conf'), `[database]\nconnection = sqlite:///${db('file')}\n`);
    const env = (more: Record<string, string>) => ({ cwd: e.dir, env: { ...e.env, ...more } });
    const os = { OS_DATABASE__CONNECTION: `sqlite:///${db('os')}` };
    const gdb = { GLANCE_DB_URL: `sqlite:${db('gdb')}` };

    // --url wins over both environment variables.
    let r = await runCli(['sync', '43', '--url', `sqlite:${db('url')}`], env({ ...os, ...gdb }));
    assert.is(r.code, 0, r.stderr);
    assert.is(await at(db('url')), 43);
    assert.match(
      r.stderr,
      /notice: using sqlite:.*url\.sqlite from --url, not sqlite:.*gdb\.sqlite from GLANCE_DB_URL: --url wins over every other source\./,
    );
    assert.match(
      r.stderr,
      /notice: using sqlite:.*url\.sqlite from --url, not sqlite:.*os\.sqlite from OS_DATABASE__CONNECTION: --url wins/,
    );

    // GLANCE_DB_URL (glance-db's own) wins over OS_DATABASE__CONNECTION.
    r = await runCli(['sync', '43'], env({ ...os, ...gdb }));
    assert.is(r.code, 0, r.stderr);
    assert.is(await at(db('gdb')), 43);
    assert.match(
      r.stderr,
      /from GLANCE_DB_URL, not sqlite:.*os\.sqlite from OS_DATABASE__CONNECTION: glance-db's own GLANCE_DB_URL wins/,
    );

    // --config-file named: OS_DATABASE__CONNECTION overrides the file (oslo.config), and the file wins over GLANCE_DB_URL.
    r = await runCli(['--config-file', join(e.etc, 'glance-api.conf'), 'db_sync', '44'], env({ ...os, ...gdb }));
    assert.is(r.code, 0, r.stderr);
    assert.is(await at(db('os')), 44);
    assert.match(
      r.stderr,
      /from OS_DATABASE__CONNECTION, not sqlite:.*gdb\.sqlite from GLANCE_DB_URL: Glance's config named on the command line/,
    );
    assert.match(
      r.stderr,
      /from OS_DATABASE__CONNECTION, not sqlite:.*file\.sqlite from .*glance-api\.conf: oslo\.config's environment source overrides its config files/,
    );
    r = await runCli(['--config-file', join(e.etc, 'glance-api.conf'), 'db_sync', '44'], env(gdb));
    assert.is(r.code, 0, r.stderr);
    assert.is(await at(db('file')), 44);
    assert.match(r.stderr, /from .*glance-api\.conf, not sqlite:.*gdb\.sqlite from GLANCE_DB_URL/);

    // OS_DATABASE__CONNECTION wins over the manifest in the working directory.
    const project = makeProject();
    try {
      r = await runCli(['version'], { cwd: project, env: { ...e.env, ...os } });
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, '44\n');
      assert.match(
        r.stderr,
        /not sqlite:.*glance\.sqlite from database\.url in .*glance-db\.yaml: the environment wins over the manifest/,
      );
      assert.not.ok(existsSync(join(project, 'glance.sqlite')));
    } finally {
      removeProject(project);
    }

    // The same database named twice: no notice.
    r = await runCli(['version', '--url', `sqlite:${db('os')}`], env(os));
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stderr, /notice:/);
  } finally {
    e.cleanup();
  }
});

test('OS_DEFAULT__SQL_CONNECTION is not read (oslo.config reads the environment under the current name only): a notice, no password', async () => {
  const e = etcGlance();
  try {
    writeFileSync(join(e.etc, 'glance-api.conf'), `[database]\nconnection = sqlite:///${join(e.dir, 'file.sqlite')}\n`);
    const r = await runCli(['db_sync'], {
      cwd: e.dir,
      env: { ...e.env, OS_DEFAULT__SQL_CONNECTION: 'postgresql://glance:s3cr3t-pw@db.example/glance' },
    });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(from .*glance-api\.conf\)/);
    assert.match(
      r.stderr,
      /notice: OS_DEFAULT__SQL_CONNECTION is set and not read: oslo\.config reads the environment under an option's current name only \(OS_DATABASE__CONNECTION\)/,
    );
    assert.not.match(r.stdout + r.stderr, /s3cr3t/);
  } finally {
    e.cleanup();
  }
});

test('OS_DATABASE__CONNECTION set but empty: refused (exit 3), nothing opened', async () => {
  const e = etcGlance();
  try {
    writeFileSync(join(e.etc, 'glance-api.conf'), `[database]\nconnection = sqlite:///${join(e.dir, 'file.sqlite')}\n`);
    const r = await runCli(['db_sync'], { cwd: e.dir, env: { ...e.env, OS_DATABASE__CONNECTION: '' } });
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: OS_DATABASE__CONNECTION is set but empty/);
    assert.not.ok(existsSync(join(e.dir, 'file.sqlite')));
  } finally {
    e.cleanup();
  }
});

test('a notice never shows a password: two server URLs that differ', async () => {
  const e = etcGlance();
  try {
    // Refused later (nothing listens), but the notice comes first and names no password.
    const r = await runCli(['version', '--url', `sqlite:${join(e.dir, 'x.sqlite')}`], {
      cwd: e.dir,
      env: {
        ...e.env,
        OS_DATABASE__CONNECTION: 'mysql+pymysql://glance:pa55-w0rd@db.example/glance',
        GLANCE_DB_URL: 'postgresql://glance:0ther-pw@db.example/glance',
      },
    });
    assert.match(
      r.stderr,
      /notice: using sqlite:.*x\.sqlite from --url, not postgresql:\/\/glance@db\.example.*\/glance from GLANCE_DB_URL/,
    );
    assert.match(r.stderr, /not mysql:\/\/glance@db\.example.*\/glance from OS_DATABASE__CONNECTION/);
    assert.not.match(r.stdout + r.stderr, /pa55-w0rd|0ther-pw/);
  } finally {
    e.cleanup();
  }
});

test("a later file's deprecated [DEFAULT] sql_connection against [database] connection: the installed Glance decides; none installed, refused", async () => {
  const e = etcGlance();
  try {
    const a = join(e.dir, 'a.sqlite');
    const b = join(e.dir, 'b.sqlite');
    writeFileSync(join(e.etc, 'a.conf'), `[database]\nconnection = sqlite:///${a}\n`);
    writeFileSync(join(e.etc, 'b.conf'), `[DEFAULT]\nsql_connection = sqlite:///${b}\n`);
    const args = ['--config-file', join(e.etc, 'a.conf'), '--config-file', join(e.etc, 'b.conf'), 'db_sync', '42'];
    let r = await runCli(args, { cwd: e.dir, env: e.env });
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, /Glance releases disagree/);
    assert.not.ok(existsSync(a) || existsSync(b));
    const site = (version: string) => {
      const dir = join(e.dir, `site-${version}`);
      mkdirSync(join(dir, `glance-${version}.dist-info`), { recursive: true });
      writeFileSync(join(dir, `glance-${version}.dist-info`, 'METADATA'), `Name: glance\nVersion: ${version}\n`);
      return dir;
    };
    // 2023.2 (bobcat, Glance 27): oslo.db before 15 reads the deprecated name, and the later file wins (as Debian's zed glance-manage does).
    r = await runCli(args, { cwd: e.dir, env: { ...e.env, GLANCE_DB_GLANCE_SITE_PACKAGES: site('27.0.0') } });
    assert.is(r.code, 0, r.stderr);
    assert.is(await at(b), 42);
    assert.match(r.stderr, /notice: .*using \[DEFAULT\] sql_connection in .*b\.conf, as the installed Glance 27\.0\.0/);
    // 2024.1 (caracal, Glance 28): oslo.db 15 no longer reads it.
    r = await runCli(args, { cwd: e.dir, env: { ...e.env, GLANCE_DB_GLANCE_SITE_PACKAGES: site('28.0.0') } });
    assert.is(r.code, 0, r.stderr);
    assert.is(await at(a), 42);
    assert.match(r.stderr, /its oslo\.db no longer reads the deprecated name/);
  } finally {
    e.cleanup();
  }
});

test('--debug before the command: a stack trace with the error; -d, --log-file and the rest accepted', () => {
  const e = etcGlance();
  try {
    const r = cli(
      [
        '--debug',
        '--log-file',
        '/nonexistent/glance-manage.log',
        '--use-syslog',
        'db_version',
        '--url',
        `sqlite:${join(e.dir, 'none.sqlite')}`,
      ],
      { cwd: e.dir, env: e.env },
    );
    assert.is(r.code, 5, r.stderr);
    assert.match(r.stderr, /\n\s+at /);
    const quiet = cli(['--nodebug', '-v', 'db_version', '--url', `sqlite:${join(e.dir, 'none.sqlite')}`], {
      cwd: e.dir,
      env: e.env,
    });
    assert.is(quiet.code, 5, quiet.stderr);
    assert.not.match(quiet.stderr, /\n\s+at /);
  } finally {
    e.cleanup();
  }
});

test('db_unload_metadefs, db_export_metadefs PATH, db_check, db_expand/db_migrate/db_contract as written', async () => {
  const e = etcGlance();
  try {
    const file = join(e.dir, 'g.sqlite');
    writeFileSync(join(e.etc, 'glance-api.conf'), `[database]\nconnection = sqlite:///${file}\n`);
    const run = (...args: string[]) => runCli(args, { cwd: e.dir, env: e.env });
    assert.is((await run('db_expand')).code, 0);
    assert.is((await run('db_migrate')).code, 0);
    assert.is((await run('db_contract')).code, 0);
    let r = await run('db_check');
    assert.is(r.code, 0, r.stderr);
    r = await run('db_export_metadefs', join(e.dir, 'out'));
    assert.is(r.code, 0, r.stderr);
    r = await run('db_unload_metadefs');
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /metadefs unload: done/);
    r = await run('db', 'version_control', '--version', String(LATEST));
    assert.is(r.code, 0, r.stderr);
  } finally {
    e.cleanup();
  }
});

test.run();
