// db load_metadefs with no PATH reads where glance-manage does: Glance's
// [DEFAULT] metadata_source_path (oslo.config: OS_DEFAULT__METADATA_SOURCE_PATH,
// then the config files, the last that sets it), and only then
// /etc/glance/metadefs. kolla, devstack and puppet-glance run it with no PATH
// (test/corpus/corpus.yaml); before this, glance-db read /etc/glance/metadefs
// whatever Glance's config said.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, cli } from './helpers.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'metadefs');
const COUNT = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).length;

function host(setting: string | null) {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-mdsrc-'));
  const conf = join(dir, 'glance-api.conf');
  writeFileSync(
    conf,
    `${setting === null ? '' : `[DEFAULT]\nmetadata_source_path = ${setting}\n\n`}[database]\nconnection = sqlite:${join(dir, 'glance.sqlite')}\n`,
  );
  const sync = cli(['db', 'sync', '--glance-config', conf], { cwd: dir });
  assert.is(sync.code, 0, sync.stderr);
  return { dir, conf, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('no PATH: [DEFAULT] metadata_source_path of the --glance-config file', () => {
  const h = host(FIXTURES);
  try {
    const r = cli(['db', 'load_metadefs', '--glance-config', h.conf], { cwd: h.dir });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`metadefs: ${COUNT} added`));
  } finally {
    h.done();
  }
});

test("no PATH, no flags: metadata_source_path of Glance's default files", () => {
  const h = host(FIXTURES);
  try {
    const r = cli(['db', 'load_metadefs'], { cwd: h.dir, env: { GLANCE_DB_GLANCE_CONFIG_DIRS: h.dir } });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`metadefs: ${COUNT} added`));
  } finally {
    h.done();
  }
});

test('OS_DEFAULT__METADATA_SOURCE_PATH wins over the file, as oslo.config has it', () => {
  const h = host('/nonexistent/metadefs');
  try {
    const r = cli(['db', 'load_metadefs', '--glance-config', h.conf], {
      cwd: h.dir,
      env: { OS_DEFAULT__METADATA_SOURCE_PATH: FIXTURES },
    });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`metadefs: ${COUNT} added`));
  } finally {
    h.done();
  }
});

test('a PATH given wins over metadata_source_path', () => {
  const h = host('/nonexistent/metadefs');
  try {
    const r = cli(['db', 'load_metadefs', '--glance-config', h.conf, FIXTURES], { cwd: h.dir });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`metadefs: ${COUNT} added`));
  } finally {
    h.done();
  }
});

test('the setting names a folder that is not there: exit 28, naming it', () => {
  const h = host(join(tmpdir(), 'glance-db-no-such-metadefs'));
  try {
    const r = cli(['db', 'load_metadefs', '--glance-config', h.conf], { cwd: h.dir });
    assert.is(r.code, 28, r.stderr);
    assert.match(r.stderr, /glance-db-no-such-metadefs/);
  } finally {
    h.done();
  }
});

test.run();
