// What becomes of Ocata's visibility triggers under glance-manage's contract,
// derived in src/glance/ocata-triggers.ts from what the dialect descriptions
// say of the database (issue 29: the descriptions name nothing of Glance).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { DIALECTS } from '../src/dialects/index.js';
import { provideDialects, type Dialect } from '../src/core/driver/dialect.js';
import { loadManifest } from '../src/core/manifest/load.js';
import {
  glanceOcataTriggers,
  ocataTriggersOutliveGlanceContract,
  orphanOcataTriggers,
} from '../src/glance/ocata-triggers.js';
import { createAlembicVersionSql } from '../src/glance/bookkeeping.js';
import { ROOT } from './helpers.js';

const manifest = loadManifest(join(ROOT, 'glance-db.yaml'));

test("glance-db's Ocata triggers outlive Glance's contract on PostgreSQL alone", () => {
  assert.is(ocataTriggersOutliveGlanceContract('postgresql'), true);
  // Glance drops its own triggers by name there.
  assert.is(ocataTriggersOutliveGlanceContract('mysql'), false);
  // Dropping is_public rebuilds images, and the triggers go with the old table.
  assert.is(ocataTriggersOutliveGlanceContract('sqlite'), false);
});

test("Glance's ocata_expand01 made its triggers on MySQL only", () => {
  assert.equal(glanceOcataTriggers('mysql'), ['insert_visibility', 'update_visibility']);
  assert.equal(glanceOcataTriggers('postgresql'), []);
  assert.equal(glanceOcataTriggers('sqlite'), []);
});

test("the orphaned triggers and functions: read from glance-db's own 045 contract, dropped IF EXISTS", () => {
  const o = orphanOcataTriggers(manifest, 'postgresql');
  assert.ok(o);
  assert.equal(o.drop, [
    'DROP TRIGGER IF EXISTS insert_visibility ON images',
    'DROP TRIGGER IF EXISTS update_visibility ON images',
    'DROP FUNCTION IF EXISTS insert_visibility()',
    'DROP FUNCTION IF EXISTS update_visibility()',
  ]);
  for (const d of [
    'unexpected function insert_visibility() (definition 0a1b2c)',
    'unexpected function update_visibility() (definition 0a1b2c)',
    'images: unexpected trigger insert_visibility BEFORE INSERT (definition 0a1b2c)',
    'images: unexpected trigger update_visibility BEFORE UPDATE (definition 0a1b2c)',
  ])
    assert.ok(o.differences.test(d), d);
  for (const d of [
    'unexpected function other_visibility() (definition 0a1b2c)',
    'images: unexpected trigger audit BEFORE INSERT (definition 0a1b2c)',
    'images: unexpected column is_public',
  ])
    assert.not.ok(o.differences.test(d), d);
  assert.is(orphanOcataTriggers(manifest, 'mysql'), null);
  assert.is(orphanOcataTriggers(manifest, 'sqlite'), null);
});

test('a fourth dialect needs no edit in src/glance: its description alone decides', () => {
  const fourth = (survive: boolean, schemes: string[]) =>
    ({ ...DIALECTS.sqlite, url: { ...DIALECTS.sqlite.url, schemes }, triggersSurviveDroppedColumn: survive }) as const;
  const with4 = (d: (typeof DIALECTS)['sqlite']) =>
    provideDialects({ ...DIALECTS, fourth: d } as unknown as Parameters<typeof provideDialects>[0]);
  try {
    with4(fourth(true, ['fourth']));
    assert.is(ocataTriggersOutliveGlanceContract('fourth' as Dialect), true);
    assert.equal(glanceOcataTriggers('fourth' as Dialect), []);
    with4(fourth(false, ['fourth']));
    assert.is(ocataTriggersOutliveGlanceContract('fourth' as Dialect), false);
    // Glance keys its triggers on SQLAlchemy's engine name, which the URL schemes carry.
    with4(fourth(true, ['mysql']));
    assert.is(ocataTriggersOutliveGlanceContract('fourth' as Dialect), false);
    assert.equal(glanceOcataTriggers('fourth' as Dialect), ['insert_visibility', 'update_visibility']);
  } finally {
    provideDialects(DIALECTS);
  }
});

test('alembic_version is made a transactional table (InnoDB on MySQL)', () => {
  const create =
    'CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))';
  assert.is(createAlembicVersionSql('mysql'), `${create} ENGINE=InnoDB`);
  assert.is(createAlembicVersionSql('postgresql'), create);
  assert.is(createAlembicVersionSql('sqlite'), create);
});

test.run();
