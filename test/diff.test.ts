import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffSchemas } from '../src/core/introspect/diff.js';
import type { SchemaModel, TableModel } from '../src/core/introspect/model.js';
import { positionInFile } from '../src/core/driver/failure.js';

const table = (over: Partial<TableModel> = {}): TableModel => ({
  name: 'images',
  columns: {
    id: { name: 'id', type: 'varchar(36)', nullable: false, default: null },
    status: { name: 'status', type: 'varchar(30)', nullable: false, default: "'active'" },
  },
  primaryKey: ['id'],
  uniques: [],
  indexes: [{ name: 'ix_images_status', columns: ['status'], unique: false }],
  foreignKeys: [],
  checks: [],
  options: {},
  ...over,
});
const schema = (t: TableModel, extra: Partial<SchemaModel> = {}): SchemaModel => ({
  dialect: 'sqlite',
  tables: { [t.name]: t },
  enums: {},
  ...extra,
});

test('identical models have no difference', () => {
  assert.equal(diffSchemas(schema(table()), schema(table())), []);
});

test('every kind of difference is named', () => {
  const actual = table({
    columns: {
      id: { name: 'id', type: 'varchar(40)', nullable: true, default: null },
      extra: { name: 'extra', type: 'integer', nullable: true, default: null },
    },
    indexes: [],
    checks: ['deleted in (0, 1)'],
    options: { engine: 'MyISAM' },
  });
  assert.equal(diffSchemas(schema(table({ options: { engine: 'InnoDB' } })), schema(actual)), [
    'images.id: type is varchar(40), expected varchar(36)',
    'images.id: is NULL, expected NOT NULL',
    'images: missing column status varchar(30)',
    'images: unexpected column extra integer',
    'images: missing index ix_images_status(status)',
    'images: unexpected check constraint CHECK (deleted in (0, 1))',
    'images: engine is MyISAM, expected InnoDB',
  ]);
});

test('missing and unexpected tables, ignored tables, enums', () => {
  const e = schema(table(), { enums: { image_visibility: ['private', 'public'] } });
  const a: SchemaModel = {
    dialect: 'sqlite',
    tables: { other: table({ name: 'other' }), glance_db_version: table({ name: 'glance_db_version' }) },
    enums: {},
  };
  assert.equal(diffSchemas(e, a, { ignoreTables: ['glance_db_version'] }), [
    'missing table images',
    'unexpected table other',
    'missing enum type image_visibility',
  ]);
});

test('a server error position inside a statement becomes file line:column', () => {
  const s = { index: 1, text: 'INSERT INTO x\n  VALUES (oops)', line: 4, column: 3, offset: 40 };
  assert.equal(positionInFile(s), { line: 4, column: 3 });
  assert.equal(positionInFile(s, 8), { line: 4, column: 10 });
  assert.equal(positionInFile(s, 25), { line: 5, column: 11 });
});

test('a MySQL text column in another collation than its table is named; a table-wide change is named once', () => {
  const mysql = (collation: string, col?: string) =>
    table({
      options: { engine: 'InnoDB', collation },
      columns: { ...table().columns, status: { ...table().columns.status, ...(col ? { collation: col } : {}) } },
    });
  assert.equal(diffSchemas(schema(mysql('utf8mb3_general_ci')), schema(mysql('utf8mb3_general_ci', 'utf8mb4_bin'))), [
    'images.status: character set/collation is utf8mb4_bin, expected utf8mb3_general_ci',
  ]);
  assert.equal(
    diffSchemas(schema(mysql('utf8mb3_general_ci')), schema(mysql('utf8mb4_general_ci', 'utf8mb3_general_ci'))),
    ['images: collation is utf8mb4_general_ci, expected utf8mb3_general_ci'],
  );
});

test('variants: a catalogue entry explains differences only if it allows every one; the most specific wins', async () => {
  const { matchVariant, allows } = await import('../src/glance/variants.js');
  assert.ok(
    allows('*: missing check constraint CHECK (*)', 'tasks: missing check constraint CHECK (deleted in (0,1))'),
  );
  assert.not.ok(
    allows('images.size: type is bigint, expected integer', 'images.size: type is bigint, expected integerx'),
  );
  assert.is(
    matchVariant('mysql', ['images: missing check constraint CHECK (protected in (0,1))'])?.id,
    'legacy-born-mysql',
  );
  assert.is(
    matchVariant('mysql', [
      'images: missing check constraint CHECK (protected in (0,1))',
      'tasks: missing check constraint CHECK (deleted in (0,1))',
    ])?.id,
    'mysql-without-checks',
  );
  assert.is(
    matchVariant('mysql', [
      'images: missing check constraint CHECK (protected in (0,1))',
      'images: unexpected index handmade_idx(name)',
    ]),
    null,
  );
  assert.is(matchVariant('postgresql', ['images: missing check constraint CHECK (protected in (0,1))']), null);
  assert.is(matchVariant('sqlite', []), null);
});

test('triggers, views, routines: missing, unexpected, changed; foreign-key actions and index predicates by name; an old expected schema compares none of them', async () => {
  const { schemaDiff, notComparedIn } = await import('../src/core/introspect/diff.js');
  const { normalizeSql, definitionHash } = await import('../src/core/introspect/normalize.js');
  const trig = (definition: string) => ({
    type: 'trigger',
    name: 'keep',
    table: 'images',
    summary: 'BEFORE INSERT',
    definition,
  });
  const view = {
    type: 'view',
    name: 'v',
    table: null,
    summary: '',
    definition: 'create view v as select id from images',
  };
  const fk = (onDelete: string) => ({
    columns: ['image_id'],
    refTable: 'images',
    refColumns: ['id'],
    onDelete,
    onUpdate: 'NO ACTION',
  });
  const e = schema(table({ foreignKeys: [fk('NO ACTION')] }), { objects: [trig('a'), view] });
  const a = schema(
    table({
      foreignKeys: [fk('CASCADE')],
      indexes: [{ name: 'ix_images_status', columns: ['status'], unique: false, where: 'false' }],
    }),
    { objects: [trig('b'), { type: 'procedure', name: 'p', table: null, summary: '', definition: 'x' }] },
  );
  const diff = schemaDiff(e, a);
  assert.equal(
    diff.map((x) => x.kind),
    ['index-predicate', 'foreign-key-action', 'trigger-definition', 'missing-view', 'unexpected-function'],
  );
  assert.equal(
    diff.map((x) => x.text),
    [
      'images: index ix_images_status(status) has predicate WHERE false, expected none',
      'images: foreign key (image_id) -> images(id) is ON DELETE CASCADE ON UPDATE NO ACTION, expected ON DELETE NO ACTION ON UPDATE NO ACTION',
      `images: trigger keep is BEFORE INSERT (definition ${definitionHash('b')}), expected BEFORE INSERT (definition ${definitionHash('a')})`,
      `missing view v (definition ${definitionHash(view.definition)})`,
      `unexpected procedure p (definition ${definitionHash('x')})`,
    ],
  );
  assert.equal([diff[3].table, diff[3].object, diff[4].object], [null, 'v', 'p']);
  // An expected schema from before objects were modelled: none of the new differences, and a sentence saying so.
  const old = schema(table({ foreignKeys: [{ columns: ['image_id'], refTable: 'images', refColumns: ['id'] }] }));
  assert.equal(schemaDiff(old, a), []);
  assert.match(notComparedIn(old, 52)!, 'not compared: the expected schema of version 52 predates them');
  assert.is(notComparedIn(e, 52), null);
  // Harmless spelling differences normalize away; a real change does not.
  const n = (sql: string, q?: string) => normalizeSql(sql, { qualifier: q });
  assert.is(
    n('CREATE  TRIGGER "keep" BEFORE INSERT ON `images` -- why\nBEGIN SELECT RAISE(ABORT, \'No\'); /* c */ END'),
    n("create trigger keep before insert on images begin select raise ( abort , 'No' ) ; end"),
  );
  assert.is(n('SELECT public.images.id FROM public.images', 'public'), n('select images.id from images'));
  assert.is(n('AS $function$ BEGIN RETURN 1; END $function$'), n('as $$ begin return 1; end $$'));
  assert.is.not(n("raise(abort, 'No')"), n("raise(abort, 'no')"));
  assert.is.not(n('WHERE deleted = 0'), n('WHERE deleted = 1'));
  assert.is(n("SET x = 'it''s'"), "set x = 'it''s'");
});

test('trigger summaries and SQLite index parts are read from the definitions', async () => {
  const { sqliteTriggerSummary, indexParts } = await import('../src/dialects/sqlite/introspect.js');
  const { pgTriggerSummary } = await import('../src/dialects/postgresql/introspect.js');
  assert.is(sqliteTriggerSummary('CREATE TRIGGER t BEFORE INSERT ON images BEGIN SELECT 1; END'), 'BEFORE INSERT');
  assert.is(
    sqliteTriggerSummary('CREATE TRIGGER IF NOT EXISTS main.t AFTER UPDATE OF a, b ON images BEGIN SELECT 1; END'),
    'AFTER UPDATE OF a, b',
  );
  assert.is(sqliteTriggerSummary('create trigger "t" instead of delete on v begin select 1; end'), 'INSTEAD OF DELETE');
  assert.is(sqliteTriggerSummary('CREATE TRIGGER t DELETE ON images BEGIN SELECT 1; END'), 'BEFORE DELETE');
  // tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate, 64 instead.
  assert.is(pgTriggerSummary(1 | 2 | 4 | 16), 'BEFORE INSERT OR UPDATE');
  assert.is(pgTriggerSummary(32), 'AFTER TRUNCATE FOR EACH STATEMENT');
  assert.equal(
    indexParts('CREATE INDEX x ON "images" (lower(name), owner DESC) WHERE deleted = 0 AND (a, b) IS NOT NULL'),
    { keys: ['lower(name)', 'owner DESC'], where: 'deleted = 0 and(a, b) is not null' },
  );
  assert.equal(indexParts('CREATE UNIQUE INDEX x ON t (a)'), { keys: ['a'], where: null });
});

test.run();
