// glance-manage's command lines rewritten into glance-db's grammar
// (src/cli/oslo-argv.ts): every legacy db_* command, --version targets, Alembic
// revision names, and oslo.config's / oslo.log's global options anywhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import { GLANCE_DB_VALUE_FLAGS, rewriteOsloArgv } from '../src/cli/oslo-argv.js';
import { ROOT, runCli } from './helpers.js';
import { defaultGlanceConfigDirs, defaultGlanceConfigFiles } from '../src/glance/config.js';
import { parseVersionOrRelease } from '../src/cli/args.js';
import { GlanceDbError } from '../src/platform/errors.js';

// No default Glance config anywhere: only what the line names.
const EMPTY = mkdtempSync(join(tmpdir(), 'glance-db-oslo-argv-'));
const env = { GLANCE_DB_GLANCE_CONFIG_DIRS: EMPTY, HOME: '/home/glance' };
const rw = (line: string) => rewriteOsloArgv(line.split(' ').filter(Boolean), env).argv.join(' ');

const usage = (f: () => unknown, re: RegExp) => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof GlanceDbError && err.exitCode === 2, String(err));
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('no usage error');
};

test('every legacy db_* command becomes db ACTION', () => {
  assert.is(rw('db_version'), 'db version');
  assert.is(rw('db_sync'), 'db sync');
  assert.is(rw('db_upgrade'), 'db sync');
  assert.is(rw('db_expand'), 'db expand');
  assert.is(rw('db_migrate'), 'db migrate');
  assert.is(rw('db_contract'), 'db contract');
  assert.is(rw('db_check'), 'db check');
  assert.is(rw('db_load_metadefs'), 'db load_metadefs');
  assert.is(rw('db_unload_metadefs'), 'db unload_metadefs --yes');
  assert.is(rw('db_export_metadefs'), 'db export_metadefs');
  assert.is(rw('db_export_metadefs /tmp/out'), 'db export_metadefs /tmp/out');
  assert.is(rw('db_version_control'), 'db sync 42 42');
  assert.is(rw('db_version_control 45'), 'db sync 45 45');
  assert.is(rw('db_version_control wallaby_contract01'), 'db sync 50 50');
  assert.is(rw('help db_load_metadefs'), 'help db load_metadefs');
  assert.is(rw('db_sync --help'), 'db sync --help');
});

test('db_load_metadefs PATH MERGE PREFER_NEW OVERWRITE: a word is yes (as Python reads it), a no-looking word is refused', () => {
  assert.is(rw('db_load_metadefs /etc/glance/metadefs'), 'db load_metadefs /etc/glance/metadefs');
  assert.is(rw('db_load_metadefs /etc/glance/metadefs True'), 'db load_metadefs /etc/glance/metadefs --merge');
  assert.is(
    rw('db_load_metadefs /etc/glance/metadefs True True'),
    'db load_metadefs /etc/glance/metadefs --merge --prefer-new',
  );
  assert.is(rw('db_load_metadefs /m 1 yes x'), 'db load_metadefs /m --merge --prefer-new --overwrite');
  assert.is(
    rewriteOsloArgv(['db_load_metadefs', '/m', '', 'True'], env).argv.join(' '),
    'db load_metadefs /m --prefer-new',
  );
  usage(() => rw('db_load_metadefs /m False'), /"False" would turn --merge on/);
  usage(() => rw('db_load_metadefs /m true 0'), /"0" would turn --prefer-new on/);
});

test("targets: --version V, positional V, heads, revision names; glance-db's own forms untouched", () => {
  assert.is(rw('db sync --version 45'), 'db sync 45');
  assert.is(rw('db sync --version=45'), 'db sync 45');
  assert.is(rw('db sync --version heads'), 'db sync');
  assert.is(rw('db sync heads'), 'db sync');
  assert.is(rw('db_sync heads'), 'db sync');
  assert.is(rw('db_sync 2023_1_contract01'), 'db sync 50');
  assert.is(rw('db sync wallaby_contract01'), 'db sync 50');
  assert.is(rw('db:sync --version pike01'), 'db sync 46');
  assert.is(rw('db upgrade'), 'db sync');
  assert.is(rw('db upgrade heads'), 'db sync');
  assert.is(rw('db upgrade --version 2024_1_contract01'), 'db sync 51');
  assert.is(rw('db_upgrade 2024_1_expand01'), 'db expand 51');
  assert.is(rw('db upgrade rocky_expand02'), 'db expand 48');
  assert.is(rw('db version_control --version ocata_contract01'), 'db sync 45 45');
  // glance-db's own grammar keeps its meaning.
  assert.is(rw('db sync'), 'db sync');
  assert.is(rw('db sync 51 44'), 'db sync 51 44');
  assert.is(rw('db upgrade 48'), 'db upgrade 48');
  assert.is(rw('sync zed'), 'sync zed');
  assert.is(rw('upgrade 51 --backup'), 'upgrade 51 --backup');
  assert.is(rw('--version'), '--version');
  usage(() => rw('db sync 45 --version 46'), /Two targets/);
  usage(() => rw('db sync --version'), /--version needs a value/);
  usage(() => rw('db_version_control heads'), /names none/);
  usage(() => rw('db_version_control 2024_1_expand01'), /expand revision/);
});

test("glance-manage's db ACTION flags stay with the command", () => {
  assert.is(rw('db load_metadefs --path /m --merge --prefer_new'), 'db load_metadefs --path /m --merge --prefer_new');
  assert.is(rw('db purge --age_in_days 30 --max_rows 100'), 'db purge --age_in_days 30 --max_rows 100');
  assert.is(rw('db purge_images_table --age_in_days 180'), 'db purge_images_table --age_in_days 180');
  assert.is(rw('db unload_metadefs'), 'db unload_metadefs --yes');
  assert.is(rw('db unload_metadefs --yes'), 'db unload_metadefs --yes');
  // glance-db's own spelling keeps asking.
  assert.is(rw('metadefs unload'), 'metadefs unload');
});

test('--config-file and --config-dir, anywhere, in order, both spellings, ~ expanded', () => {
  assert.is(
    rw('--config-file /etc/glance/glance-api.conf --config-dir /etc/glance/glance.conf.d db_load_metadefs /m'),
    'db load_metadefs /m --glance-config /etc/glance/glance-api.conf --glance-config /etc/glance/glance.conf.d',
  );
  assert.is(
    rw('db_sync --config-file=/a.conf --config-dir=/d --config-file /b.conf'),
    'db sync --glance-config /a.conf --glance-config /d --glance-config /b.conf',
  );
  assert.is(
    rw('--config-file ~/glance.conf --config-dir /d version'),
    'version --glance-config /home/glance/glance.conf --glance-config /d',
  );
  assert.is(
    rw('--config_file /a.conf --config-dir /d db version'),
    'db version --glance-config /a.conf --glance-config /d',
  );
  // glance-db's own flag values are never read as oslo options.
  assert.is(rw('db sync --url --config-file'), 'db sync --url --config-file');
  // After --, nothing is an option.
  assert.is(rw('db export_metadefs -- --debug'), 'db export_metadefs -- --debug');
  usage(() => rw('db_sync --config-file'), /--config-file needs a value/);
  usage(() => rewriteOsloArgv(['db_sync', '--config-dir', ''], env), /--config-dir is empty/);
});

test("only one of --config-file / --config-dir given: oslo.config reads the other kind's defaults, first", () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-oslo-defaults-'));
  try {
    const home = join(dir, 'home');
    const etc = join(dir, 'etc-glance');
    mkdirSync(join(home, '.glance'), { recursive: true });
    mkdirSync(join(etc, 'glance.conf.d'), { recursive: true });
    mkdirSync(join(etc, 'glance-api.conf.d'));
    mkdirSync(join(home, '.glance', 'glance-manage.conf.d'));
    for (const f of [
      join(etc, 'glance-api.conf'),
      join(etc, 'glance.conf'),
      join(home, '.glance', 'glance-manage.conf'),
      join(etc, 'glance-manage.conf'),
    ])
      writeFileSync(f, '');
    const e = { GLANCE_DB_GLANCE_CONFIG_DIRS: `${join(home, '.glance')}:${home}:${etc}`, HOME: home };
    // glance.conf is read again after glance-api.conf (glance-manage asks for glance-api's files, then glance-manage's), so it wins over it.
    assert.equal(defaultGlanceConfigFiles(e), [
      join(etc, 'glance-api.conf'),
      join(etc, 'glance.conf'),
      join(home, '.glance', 'glance-manage.conf'),
    ]);
    assert.equal(defaultGlanceConfigDirs(e), [
      join(etc, 'glance-api.conf.d'),
      join(etc, 'glance.conf.d'),
      join(home, '.glance', 'glance-manage.conf.d'),
    ]);
    const r = rewriteOsloArgv(['--config-dir', '/x.d', 'db_sync'], e).argv;
    assert.equal(r, ['db', 'sync', ...[...defaultGlanceConfigFiles(e), '/x.d'].flatMap((p) => ['--glance-config', p])]);
    const r2 = rewriteOsloArgv(['--config-file', '/x.conf', 'db_sync'], e).argv;
    assert.equal(r2, [
      'db',
      'sync',
      ...[...defaultGlanceConfigDirs(e), '/x.conf'].flatMap((p) => ['--glance-config', p]),
    ]);
    // Neither given: nothing added; glance-db finds the defaults itself when nothing else names the database.
    assert.equal(rewriteOsloArgv(['db_sync'], e).argv, ['db', 'sync']);
    // A snap's folders come after /etc (oslo_config _get_config_dirs).
    const snap = defaultGlanceConfigFiles({
      HOME: home,
      SNAP_COMMON: join(dir, 'snap-common'),
      SNAP: join(dir, 'snap'),
    });
    assert.ok(Array.isArray(snap));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("oslo.log's switches: --debug/-d honoured (last of --debug/--nodebug wins), the rest accepted and ignored", () => {
  const r = rewriteOsloArgv(
    [
      '--debug',
      'db_sync',
      '--log-file',
      '/var/log/glance/manage.log',
      '--use-syslog',
      '--nouse-syslog',
      '--log-dir=/var/log',
      '--verbose',
      '-v',
      '--noverbose',
      '--watch-log-file',
      '--log-config-append',
      '/etc/glance/logging.conf',
      '--log-date-format',
      '%Y',
      '--syslog-log-facility',
      'LOG_USER',
      '--use-journal',
      '--use-json',
      '--use-eventlog',
      '--logfile',
      'x',
      '--logdir',
      'y',
      '--log-config',
      'z',
      '--nouse-json',
      '--log_file',
      'w',
    ],
    env,
  );
  assert.equal(r.argv, ['db', 'sync']);
  assert.ok(r.debug);
  assert.ok(r.ignored.includes('--log-file /var/log/glance/manage.log'));
  assert.is(rewriteOsloArgv(['-d', 'db_version'], env).debug, true);
  assert.is(rewriteOsloArgv(['--debug', '--nodebug', 'db_version'], env).debug, false);
  assert.is(rewriteOsloArgv(['db_version', '--debug=false'], env).debug, false);
  assert.is(rewriteOsloArgv(['db_version'], env).debug, false);
  usage(() => rewriteOsloArgv(['db_sync', '--log-file'], env), /--log-file needs a value/);
});

test("glance-db's own command lines come back as they were", () => {
  for (const line of [
    'version --url sqlite:x.db',
    'db check --glance-config /etc/glance/glance-api.conf',
    'metadefs:export /tmp/x',
    'db metadefs load --merge',
    'plan -o out.sql 51',
    'help db sync',
    'completion bash',
    'purge --age-in-days 3',
    'sync --json',
    'check --config glance-db.yaml',
    '',
  ]) {
    const r = rewriteOsloArgv(line.split(' ').filter(Boolean), env);
    assert.is(r.argv.join(' '), line, line);
    assert.is(r.rewritten, false, line);
  }
});

test('VERSION arguments take Alembic revision names: a contract revision is its version, an expand one or heads gets a usage error', () => {
  assert.is(parseVersionOrRelease('VERSION', 'wallaby_contract01'), 50);
  assert.is(parseVersionOrRelease('VERSION', '2024_1_contract01'), 51);
  assert.is(parseVersionOrRelease('VERSION', 'ocata01'), 45);
  assert.is(parseVersionOrRelease('VERSION', 'liberty'), 42);
  assert.is(parseVersionOrRelease('VERSION', 'mitaka01'), 43);
  usage(() => parseVersionOrRelease('VERSION', 'zed_expand01'), /expand revision/);
  usage(() => parseVersionOrRelease('VERSION', 'heads'), /leave VERSION out/);
  usage(() => parseVersionOrRelease('VERSION', 'nope'), /Alembic revision such as wallaby_contract01/);
});

test('every glance-db flag that takes a value is known to the rewriting, so its value is never read as an oslo option', async () => {
  const config = await Config.load(ROOT);
  const valued = new Set<string>();
  for (const cmd of config.commands) {
    for (const [name, flag] of Object.entries(cmd.flags)) {
      if (flag.type !== 'option') continue;
      valued.add(`--${name}`);
      if (flag.char) valued.add(`-${flag.char}`);
      for (const a of flag.aliases ?? []) valued.add(`--${a}`);
    }
  }
  assert.equal(
    [...valued].filter((f) => !GLANCE_DB_VALUE_FLAGS.has(f)),
    [],
  );
  // And none of them is an oslo option's spelling.
  assert.equal(
    [...valued].filter((f) => /^--(config-file|config-dir|debug|log-file|log-dir)$/.test(f)),
    [],
  );
});

test('a word that names a property of every JavaScript object is a word like any other (constructor, toString, __proto__)', async () => {
  // These once matched the legacy-command table through Object's prototype: `glance-db constructor` became
  // ['db', <function>] and ended in "unexpected: a.startsWith is not a function".
  for (const word of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    assert.is(rw(word), word);
    assert.is(rw(`${word} x`), `${word} x`);
    assert.is(rw(`help ${word}`), `help ${word}`);
    for (const a of rewriteOsloArgv([word, 'x'], env).argv) assert.type(a, 'string');
  }
  // And on the command line: an unknown command (exit 2), not an internal error.
  for (const argv of [['constructor'], ['toString', 'x'], ['help', '__proto__']]) {
    const r = await runCli(argv);
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, 'Unknown command');
    assert.not.match(r.stderr, /unexpected|internal/);
  }
});

test.after(() => rmSync(EMPTY, { recursive: true, force: true }));
test.run();
