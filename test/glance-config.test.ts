// Glance's own config file read as oslo.config reads it (issue 16 item 17):
// $option / ${option} substitution from the same file (same section, then
// [DEFAULT]; group.option), $$ and \$ as a literal $, continuation lines
// joined with a line break, sections lower-cased except DEFAULT, comments
// only at the start of a line. An unresolved reference is refused, never
// opened as a file with a $ in its name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionFromGlanceConfig } from '../src/glance/config.js';
import { GlanceDbError } from '../src/platform/errors.js';
import { parseDatabaseUrl } from '../src/dialects/index.js';
import { cli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'glance-db-oslo-'));
let n = 0;

function conf(text: string): string {
  const p = join(dir, `glance-api-${n++}.conf`);
  writeFileSync(p, text);
  return p;
}

function refused(text: string): GlanceDbError {
  try {
    connectionFromGlanceConfig(conf(text));
  } catch (err) {
    assert.instance(err, GlanceDbError);
    assert.is((err as GlanceDbError).exitCode, 3);
    return err as GlanceDbError;
  }
  throw new Error(`accepted: ${text}`);
}

test('$option and ${option} from [DEFAULT]; the same section wins over [DEFAULT]', () => {
  assert.is(
    connectionFromGlanceConfig(
      conf('[DEFAULT]\nstate_path = /var/lib/glance\n[database]\nconnection = sqlite:///$state_path/glance.sqlite\n'),
    ),
    'sqlite:////var/lib/glance/glance.sqlite',
  );
  assert.is(
    connectionFromGlanceConfig(
      conf('[DEFAULT]\nstate_path = /srv\n[database]\nconnection = sqlite:///${state_path}x/g.sqlite\n'),
    ),
    'sqlite:////srvx/g.sqlite',
  );
  assert.is(
    connectionFromGlanceConfig(
      conf('[DEFAULT]\nhost = a\n[database]\nhost = b\nconnection = mysql://u@$host/glance\n'),
    ),
    'mysql://u@b/glance',
  );
});

test('group.option names a section; references are substituted in turn; the last assignment wins', () => {
  assert.is(
    connectionFromGlanceConfig(
      conf('[paths]\nroot = /data\n[database]\nconnection = sqlite:///$paths.root/g.sqlite\n'),
    ),
    'sqlite:////data/g.sqlite',
  );
  assert.is(
    connectionFromGlanceConfig(
      conf('[DEFAULT]\nbase = /b\nstate_path = $base/state\n[database]\nconnection = sqlite:///$state_path/g.sqlite\n'),
    ),
    'sqlite:////b/state/g.sqlite',
  );
  assert.is(
    connectionFromGlanceConfig(
      conf('[database]\nconnection = sqlite:///first.sqlite\nconnection = sqlite:///second.sqlite\n'),
    ),
    'sqlite:///second.sqlite',
  );
});

test('$$ and \\$ are a literal $; a $ that starts no name stays', () => {
  assert.is(
    connectionFromGlanceConfig(conf('[database]\nconnection = mysql://u:pa$$word@h/glance\n')),
    'mysql://u:pa$word@h/glance',
  );
  assert.is(
    connectionFromGlanceConfig(conf('[database]\nconnection = mysql://u:pa\\$word@h/glance\n')),
    'mysql://u:pa$word@h/glance',
  );
  assert.is(
    connectionFromGlanceConfig(conf('[database]\nconnection = mysql://u:p$1@h/glance\n')),
    'mysql://u:p$1@h/glance',
  );
});

test('oslo.config syntax: section names lower-cased (not DEFAULT), quotes stripped, comments only at line start, key: value', () => {
  assert.is(connectionFromGlanceConfig(conf('[DATABASE]\nconnection = "sqlite:///q.sqlite"\n')), 'sqlite:///q.sqlite');
  assert.is(
    connectionFromGlanceConfig(
      conf('[database]\n# connection = sqlite:///commented\nconnection: sqlite:///colon.sqlite\n'),
    ),
    'sqlite:///colon.sqlite',
  );
  // [default] is an ordinary group, not DEFAULT; [ database ] is not [database].
  assert.match(
    refused('[default]\nstate_path = /x\n[database]\nconnection = sqlite:///$state_path/g\n').message,
    /refers to \$state_path/,
  );
  assert.match(refused('[ database ]\nconnection = sqlite:///x\n').message, /has no \[database\] connection/);
});

test('an unresolved $option is refused, naming it; glance-db invents no default (Glance registers no state_path)', () => {
  const e = refused('[database]\nconnection = sqlite:///$state_path/glance.sqlite\n');
  assert.match(e.message, /refers to \$state_path, and the file sets no option state_path/);
  assert.match(refused('[database]\nconnection = sqlite:///${nope}/g\n').message, /refers to \$nope/);
  assert.match(refused('[database]\na = $b\nb = $a\nconnection = sqlite:///$a\n').message, /nest too deep/);
});

test('a $ inside a password is refused without naming what follows it', () => {
  const e = refused('[database]\nconnection = mysql://glance:ab$S3CRETxx@db/glance\n');
  assert.not.match(e.message + (e.hint ?? ''), 'S3CRET');
  assert.match(e.hint!, /\$\$/);
});

test('continuation lines are joined as oslo.config joins them: a connection over two lines is refused', () => {
  assert.match(
    refused('[database]\nconnection = mysql://u:pw@\n  db/glance\n').message,
    /continues on 1 indented line/,
  );
  // A continued option that the connection refers to brings its line break along: refused as a URL.
  const url = connectionFromGlanceConfig(
    conf('[DEFAULT]\nhost = db\n  two\n[database]\nconnection = mysql://u@$host/glance\n'),
  );
  assert.is(url, 'mysql://u@db\ntwo/glance');
  assert.throws(
    () => parseDatabaseUrl(url, '/', 'x'),
    (e: Error) => e instanceof GlanceDbError && /control characters/.test(e.message),
  );
  // An indented comment is a continuation, not a comment (iniparser checks indentation first).
  assert.match(
    refused('[database]\nconnection = sqlite:///x.sqlite\n  # note\n').message,
    /continues on 1 indented line/,
  );
  // A blank line ends a value.
  assert.is(
    connectionFromGlanceConfig(conf('[database]\nconnection = sqlite:///x.sqlite\n\n[other]\nk = v\n')),
    'sqlite:///x.sqlite',
  );
});

test('lines oslo.config cannot parse are refused with their line number', () => {
  assert.match(refused('[database]\njust some words\n').message, /:2: a line with no '=' or ':'/);
  assert.match(refused('connection = sqlite:///x\n').message, /:1: a setting before any \[section\]/);
  assert.match(refused('  connection = sqlite:///x\n[database]\n').message, /:1: an indented \(continuation\) line/);
});

test('CLI: sync through $state_path creates the database where the file says; unresolved, it creates nothing', () => {
  const state = join(dir, 'state');
  mkdirSync(state);
  const good = conf(`[DEFAULT]\nstate_path = ${state}\n[database]\nconnection = sqlite:///$state_path/glance.sqlite\n`);
  const ok = cli(['sync', '45', '--glance-config', good], { cwd: dir });
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(existsSync(join(state, 'glance.sqlite')));
  const work = join(dir, 'work');
  mkdirSync(work);
  const bad = conf('[database]\nconnection = sqlite:$state_path.sqlite\n');
  const r = cli(['sync', '--glance-config', bad], { cwd: work });
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /refers to \$state_path/);
  assert.equal(readdirSync(work), []);
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
