// One test per kind of bad manifest: each is refused with exit code 3, a
// message naming the file (and line where there is one), no stack trace, and
// no database file created.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadManifest } from '../src/core/manifest/load.js';
import { isDataOnly } from '../src/core/manifest/types.js';
import shipped from '../src/core/manifest/shipped-manifest.js';
import { cli, makeProject, removeProject, ROOT, VERSIONS, runCli } from './helpers.js';

const ORIGINAL = readFileSync(new URL('../../glance-db.yaml', import.meta.url), 'utf8');

interface Case {
  name: string;
  manifest?: string;
  files?: Record<string, string | null>;
  setup?: (dir: string) => void;
  expect: RegExp;
}

const swap = (from: string | RegExp, to: string) => ORIGINAL.replace(from, to);
/** 1-based line of the first occurrence of text in the shipped manifest. */
const lineOf = (text: string) => ORIGINAL.slice(0, ORIGINAL.indexOf(text)).split('\n').length;

const cases: Case[] = [
  { name: 'invalid YAML', manifest: 'database:\n  url: [unclosed\n', expect: /glance-db\.yaml:\d+: invalid YAML/ },
  { name: 'empty file', manifest: '', expect: /glance-db\.yaml: the manifest is empty/ },
  { name: 'comments only', manifest: '# nothing\n', expect: /the manifest is empty/ },
  { name: 'not a mapping', manifest: '- a\n- b\n', expect: /glance-db\.yaml:1: \(top level\): must be object/ },
  {
    name: 'wrong type names file, line and path',
    manifest: swap('sqlite: sql/sqlite/045_add_visibility.sql', 'sqlite: 45'),
    expect: new RegExp(
      `glance-db\\.yaml:${lineOf('sqlite: sql/sqlite/045')}: migrations\\[3\\]\\.files\\.sqlite: must be string`,
    ),
  },
  {
    name: 'unknown key',
    manifest: swap('  versionTable: glance_db_version', '  versionTable: glance_db_version\n  colour: blue'),
    expect: new RegExp(`glance-db\\.yaml:${lineOf('versionTable') + 1}: database\\.colour: unknown key "colour"`),
  },
  {
    name: 'missing key',
    manifest: swap('    name: add_os_hidden\n', ''),
    expect: /migrations\[5\]: missing required key "name"/,
  },
  {
    name: 'unknown dialect',
    manifest: swap(/^dialects: \[.*\]$/m, 'dialects: [sqlite, oracle]'),
    expect: new RegExp(
      `glance-db\\.yaml:${lineOf('dialects:')}: dialects\\[1\\]: must be one of "sqlite", "postgresql", "mysql"`,
    ),
  },
  {
    name: 'version not an integer',
    manifest: swap('version: 47', 'version: forty-seven'),
    expect: /migrations\[5\]\.version: must be integer/,
  },
  {
    name: 'duplicate key',
    manifest: swap('  url: sqlite:glance.sqlite', '  url: sqlite:glance.sqlite\n  url: sqlite:other.sqlite'),
    expect: /glance-db\.yaml:\d+: invalid YAML: Map keys must be unique/,
  },
  {
    name: 'duplicate version',
    manifest: swap('version: 47', 'version: 46'),
    expect: new RegExp(
      `glance-db\\.yaml:${lineOf('version: 47')}: migrations\\[5\\]\\.version: version 46 appears twice`,
    ),
  },
  {
    name: 'unordered versions',
    manifest: swap('version: 47', 'version: 40'),
    expect: /migrations\[5\]\.version: version 40 comes after 46: versions must increase/,
  },
  {
    name: 'path escape with ..',
    manifest: swap('sqlite: sql/sqlite/047_add_os_hidden.sql', 'sqlite: sql/../../etc/passwd.sql'),
    files: { 'sql/sqlite/047_add_os_hidden.sql': null },
    expect: /migrations\[5\]\.files\.sqlite: "sql\/\.\.\/\.\.\/etc\/passwd\.sql" lies outside sql\//,
  },
  {
    name: 'path outside sql/ by pattern',
    manifest: swap('sqlite: sql/sqlite/047_add_os_hidden.sql', 'sqlite: /etc/passwd'),
    expect: /migrations\[5\]\.files\.sqlite: must match pattern/,
  },
  {
    name: 'symlink leading out of sql/',
    files: { 'sql/sqlite/047_add_os_hidden.sql': null, 'outside.sql': 'SELECT 1;' },
    setup: (dir) => symlinkSync(join(dir, 'outside.sql'), join(dir, 'sql/sqlite/047_add_os_hidden.sql')),
    expect:
      /migrations\[5\]\.files\.sqlite: "sql\/sqlite\/047_add_os_hidden\.sql" is a symbolic link that leads outside sql\//,
  },
  {
    // Issue 16: only the last component used to be checked, so a linked folder let any file in.
    name: 'a folder under sql/ that is a symlink leading out',
    manifest: swap('sqlite: sql/sqlite/047_add_os_hidden.sql', 'sqlite: sql/evil/047_add_os_hidden.sql'),
    files: { 'sql/sqlite/047_add_os_hidden.sql': null, 'elsewhere/047_add_os_hidden.sql': 'DROP TABLE images;' },
    setup: (dir) => symlinkSync(join(dir, 'elsewhere'), join(dir, 'sql/evil')),
    expect:
      /migrations\[5\]\.files\.sqlite: "sql\/evil\/047_add_os_hidden\.sql" lies in a folder that is a symbolic link leading outside sql\//,
  },
  {
    name: 'a linked folder inside a linked folder leading out',
    manifest: swap('sqlite: sql/sqlite/047_add_os_hidden.sql', 'sqlite: sql/a/b/047_add_os_hidden.sql'),
    files: { 'sql/sqlite/047_add_os_hidden.sql': null, 'elsewhere/047_add_os_hidden.sql': 'DROP TABLE images;' },
    setup: (dir) => {
      symlinkSync(join(dir, 'sql/sqlite'), join(dir, 'sql/a'));
      symlinkSync(join(dir, 'elsewhere'), join(dir, 'sql/sqlite/b'));
    },
    expect: /"sql\/a\/b\/047_add_os_hidden\.sql" lies in a folder that is a symbolic link leading outside sql\//,
  },
  {
    name: 'missing file',
    files: { 'sql/sqlite/048_add_os_hash.sql': null },
    expect: /migrations\[6\]\.files\.sqlite: "sql\/sqlite\/048_add_os_hash\.sql" does not exist/,
  },
  {
    name: 'unreferenced file',
    files: { 'sql/sqlite/052_extra.sql': 'SELECT 1;' },
    expect: /sql\/sqlite\/052_extra\.sql is not referenced by any version/,
  },
  {
    name: 'dialect without a file',
    manifest:
      'database:\n  url: sqlite:g.sqlite\ndialects: [sqlite, mysql]\nmigrations:\n  - version: 1\n    name: one\n    description: d\n    files:\n      sqlite: sql/one.sql\n',
    files: { sql: null, 'sql/one.sql': 'SELECT 1;' },
    expect: /glance-db\.yaml:9: migrations\[0\]\.files: no file for dialect "mysql" \(declared in dialects\)/,
  },
  {
    name: 'binary manifest',
    setup: (dir) => writeFileSync(join(dir, 'glance-db.yaml'), Buffer.from([0x00, 0x01, 0xff, 0x00])),
    expect: /binary file, not a YAML manifest/,
  },
  // Rolling upgrades (issue 19): phases go with rolling: phased, one file per dialect, named after their version and phase, under sql/.
  {
    name: 'phases without rolling: phased',
    manifest: swap(
      '    rolling: phased\n    phases:\n      expand:',
      '    rolling: expand\n    phases:\n      expand:',
    ),
    expect: /migrations\[3\]\.phases: phases is only for rolling: phased \(this version says rolling: expand\)/,
  },
  {
    name: 'rolling: phased without phases',
    manifest: swap('    rolling: expand\n\n  - version: 48', '    rolling: phased\n\n  - version: 48'),
    expect: /migrations\[5\]\.rolling: rolling: phased needs phases/,
  },
  {
    name: 'unknown rolling kind',
    manifest: swap('    rolling: contract\n', '    rolling: later\n'),
    expect: /migrations\[4\]\.rolling: must be one of "expand", "migrate", "contract", "phased"/,
  },
  {
    name: 'unknown phase',
    manifest: swap('      contract:\n        sqlite: sql/sqlite/045', '      cleanup:\n        sqlite: sql/sqlite/045'),
    expect: /migrations\[3\]\.phases\.cleanup: unknown key "cleanup"/,
  },
  {
    name: 'a phase file missing for a dialect',
    manifest: swap('        mysql: sql/mysql/045_add_visibility.migrate.sql\n', ''),
    files: { 'sql/mysql/045_add_visibility.migrate.sql': null },
    expect: /migrations\[3\]\.phases\.migrate: no migrate file for dialect "mysql"/,
  },
  {
    name: 'a phase file named for another phase',
    manifest: swap(
      'sqlite: sql/sqlite/045_add_visibility.contract.sql',
      'sqlite: sql/sqlite/045_add_visibility.cleanup.sql',
    ),
    files: {
      'sql/sqlite/045_add_visibility.contract.sql': null,
      'sql/sqlite/045_add_visibility.cleanup.sql': 'SELECT 1;',
    },
    expect:
      /phases\.contract\.sqlite: "sql\/sqlite\/045_add_visibility\.cleanup\.sql" must be named 045_NAME\.contract\.sql/,
  },
  {
    name: 'a phase file named for another version',
    manifest: swap(
      'sqlite: sql/sqlite/049_location_backend_to_store.migrate.sql',
      'sqlite: sql/sqlite/048_location_backend_to_store.migrate.sql',
    ),
    files: {
      'sql/sqlite/049_location_backend_to_store.migrate.sql': null,
      'sql/sqlite/048_location_backend_to_store.migrate.sql': 'SELECT 1;',
    },
    expect:
      /phases\.migrate\.sqlite: ".*048_location_backend_to_store\.migrate\.sql" must be named 049_NAME\.migrate\.sql/,
  },
  {
    name: 'a missing phase file',
    files: { 'sql/postgresql/045_add_visibility.expand.sql': null },
    expect:
      /migrations\[3\]\.phases\.expand\.postgresql: "sql\/postgresql\/045_add_visibility\.expand\.sql" does not exist/,
  },
  {
    name: 'a phase file outside sql/',
    manifest: swap('sqlite: sql/sqlite/045_add_visibility.expand.sql', 'sqlite: sql/../045_add_visibility.expand.sql'),
    files: { 'sql/sqlite/045_add_visibility.expand.sql': null, '045_add_visibility.expand.sql': 'SELECT 1;' },
    expect: /phases\.expand\.sqlite: "sql\/\.\.\/045_add_visibility\.expand\.sql" lies outside sql\//,
  },
  {
    name: 'a phase file no version names',
    manifest: swap(
      /      migrate:\n        sqlite: sql\/sqlite\/049[^]*?mysql: sql\/mysql\/049_location_backend_to_store\.migrate\.sql\n/,
      '      migrate:\n        sqlite: sql/sqlite/045_add_visibility.migrate.sql\n        postgresql: sql/postgresql/045_add_visibility.migrate.sql\n        mysql: sql/mysql/045_add_visibility.migrate.sql\n',
    ),
    expect: /must be named 049_NAME\.migrate\.sql/,
  },
  {
    name: 'bad version table name',
    manifest: swap('versionTable: glance_db_version', 'versionTable: "x; DROP TABLE images"'),
    expect: /database\.versionTable: must match pattern/,
  },
];

for (const c of cases) {
  test(`bad manifest: ${c.name}`, async () => {
    const dir = makeProject({ ...(c.manifest !== undefined ? { 'glance-db.yaml': c.manifest } : {}), ...c.files });
    try {
      c.setup?.(dir);
      const r = await runCli(['sync'], { cwd: dir });
      assert.is(r.code, 3, `exit code (stderr: ${r.stderr})`);
      assert.match(r.stderr, c.expect);
      assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
      assert.not.ok(existsSync(join(dir, 'glance.sqlite')), 'no database created');
    } finally {
      removeProject(dir);
    }
  });
}

test('a folder linked inside sql/ is fine', async () => {
  const dir = makeProject({
    'glance-db.yaml': swap('sqlite: sql/sqlite/047_add_os_hidden.sql', 'sqlite: sql/linked/047_add_os_hidden.sql'),
  });
  try {
    symlinkSync(join(dir, 'sql/sqlite'), join(dir, 'sql/linked'));
    const r = await runCli(['sync', '47'], { cwd: dir });
    assert.is(r.code, 0, r.stderr);
  } finally {
    removeProject(dir);
  }
});

test('missing manifest names the path and the --config flag', async () => {
  // A real process; the other CLI runs here are in process (test/run-cli-sqlite.test.ts).
  const r = cli(['version', '--config', '/nonexistent/glance-db.yaml']);
  assert.is(r.code, 3);
  assert.match(r.stderr, '/nonexistent/glance-db.yaml does not exist');
  assert.match(r.stderr, '--config');
});

// The build parses the shipped glance-db.yaml (scripts/build-validator.mjs) and loadManifest takes that parse when the
// file holds exactly this text (issue 31: start-up); it must be the parse itself, and an error still gets its line.
test('the build-time parse of the shipped manifest is what parsing glance-db.yaml gives', () => {
  assert.ok(shipped, 'npm run build wrote dist/src/core/manifest/shipped-manifest.js with a parse');
  assert.is(shipped!.text, ORIGINAL);
  assert.equal(JSON.parse(shipped!.json), parseDocument(ORIGINAL, { uniqueKeys: true }).toJS());
});

test('a copy of the shipped manifest with a file missing: the error names the line that names the file', () => {
  const dir = makeProject({ 'sql/mysql/048_add_os_hash.sql': null });
  try {
    assert.is(readFileSync(join(dir, 'glance-db.yaml'), 'utf8'), ORIGINAL, 'the shipped text, so the build-time parse');
    assert.throws(
      () => loadManifest(join(dir, 'glance-db.yaml')),
      (e: Error) =>
        e.message.startsWith(
          `glance-db.yaml:${lineOf('mysql: sql/mysql/048_add_os_hash.sql')}: migrations[6].files.mysql: "sql/mysql/048_add_os_hash.sql" does not exist`,
        ),
    );
  } finally {
    removeProject(dir);
  }
});

test('the shipped manifest is valid and names its JSON Schema for editors', () => {
  assert.match(ORIGINAL.split('\n')[0], /^# yaml-language-server: \$schema=\.\/schema\/glance-db\.schema\.json$/);
  // The loader runs the JSON Schema validator and every on-disk check; it throws on any problem.
  const m = loadManifest(join(ROOT, 'glance-db.yaml'));
  assert.equal(
    m.migrations.map((v) => v.version),
    VERSIONS,
  );
  for (const v of m.migrations)
    assert.equal(Object.keys(v.files).sort(), [...m.dialects].sort(), `version ${v.version} has a file per dialect`);
  // And the same file with one version broken is refused, so this check can fail.
  const dir = makeProject({ 'glance-db.yaml': ORIGINAL.replace('version: 47', 'version: "47"') });
  try {
    assert.throws(() => loadManifest(join(dir, 'glance-db.yaml')), /migrations\[5\]\.version: must be integer/);
  } finally {
    removeProject(dir);
  }
});

// Which versions change data only is read from how they roll (a migrate step alone), not from an attribute a
// site's manifest written earlier would lack: such a manifest must keep 44 and 49's exceptions (a hole an
// adopted rolling upgrade left, a failed row repair may remove, run again on take-over).
test('data-only versions are those whose only step is migrate: 44 and 49 in the shipped manifest', () => {
  const m = loadManifest(join(ROOT, 'glance-db.yaml'));
  assert.equal(
    m.migrations.filter(isDataOnly).map((x) => x.version),
    [44, 49],
  );
  const base = { version: 60, name: 'x', description: 'x', files: {} };
  assert.ok(isDataOnly({ ...base, rolling: 'migrate' }));
  assert.ok(isDataOnly({ ...base, rolling: 'phased', phases: { migrate: {} } }));
  assert.not.ok(isDataOnly({ ...base, rolling: 'phased', phases: { expand: {}, migrate: {} } }));
  assert.not.ok(isDataOnly({ ...base, rolling: 'expand' }));
  assert.not.ok(isDataOnly(base));
});

test.run();
