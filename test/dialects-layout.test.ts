// One place per dialect (issue 17): everything glance-db does differently per
// dialect, apart from the driver's I/O, is read from the dialect's
// description in src/dialects/<name>/description.ts. These tests fail when a switch on a
// dialect's name comes back anywhere but src/dialects, or
// when a list of the dialects elsewhere (the manifest, `plan --dialect`, the
// JSON Schemas) stops being DIALECTS' keys.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Plan from '../src/cli/commands/plan.js';
import { DIALECT_NAMES, DIALECTS } from '../src/dialects/index.js';
import { loadManifest } from '../src/core/manifest/load.js';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');
/** Where a dialect's name may be tested: its folder, the registry, and the TLS settings (one parser per server dialect). */
const ALLOWED = ['src/dialects/', 'src/platform/tls.ts'];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The lines of a text that branch on a dialect's name: `=== 'mysql'`, `'mysql' !==`, `case 'mysql'`, a union of dialect names. */
function dialectSwitches(text: string): string[] {
  const names = DIALECT_NAMES.join('|');
  const patterns = [
    new RegExp(`[!=]==?\\s*['"\`](${names})['"\`]`),
    new RegExp(`['"\`](${names})['"\`]\\s*[!=]==?`),
    new RegExp(`\\bcase\\s+['"\`](${names})['"\`]`),
    new RegExp(`['"](${names})['"]\\s*\\|\\s*['"](${names})['"]`),
  ];
  return text.split('\n').filter((line) => patterns.some((p) => p.test(line)));
}

test('the switch detector sees the forms a dialect switch takes', () => {
  for (const line of [
    "if (dialect === 'mysql') x();",
    "const y = 'sqlite' !== d;",
    "    case 'postgresql':",
    "type D = 'sqlite' | 'mysql';",
    'x = t.dialect == "postgresql"',
  ]) {
    assert.equal(dialectSwitches(line), [line], line);
  }
  for (const line of ["const u = 'sqlite:PATH';", 'if (d.transactionalDdl) run();', "dialect: 'sqlite',"])
    assert.equal(dialectSwitches(line), [], line);
});

test('no code outside src/dialects branches on a dialect name', () => {
  const found = walk(SRC)
    .map((f) => relative(ROOT, f).split('\\').join('/'))
    .filter((f) => !ALLOWED.some((dir) => f.startsWith(dir)))
    .flatMap((f) => dialectSwitches(readFileSync(join(ROOT, f), 'utf8')).map((line) => `${f}: ${line.trim()}`));
  assert.equal(
    found,
    [],
    'read the dialect description (src/dialects/<name>/description.ts) instead:\n' + found.join('\n'),
  );
});

test("the Dialect type is defined once, in the core ports, as the registry's keys", () => {
  const defs = walk(SRC)
    .filter((f) => /export type Dialect\b/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(ROOT, f).split('\\').join('/'));
  assert.equal(defs, ['src/core/driver/dialect-name.ts']);
  assert.match(
    readFileSync(join(SRC, 'dialects', 'index.ts'), 'utf8'),
    /interface DialectNames extends Record<keyof typeof DIALECTS, true>/,
  );
});

test("DIALECTS' keys are the manifest's dialects, plan --dialect's choices and the JSON Schemas' enums", () => {
  const names = Object.keys(DIALECTS);
  assert.equal(names, ['sqlite', 'postgresql', 'mysql']);
  assert.equal(DIALECT_NAMES, names);
  assert.equal(loadManifest(join(ROOT, 'glance-db.yaml')).dialects, names);
  assert.equal(Plan.flags.dialect.options, names);
  const manifestSchema = JSON.parse(readFileSync(join(ROOT, 'schema', 'glance-db.schema.json'), 'utf8'));
  assert.equal(manifestSchema.properties.dialects.items.enum, names);
  assert.equal(Object.keys(manifestSchema.$defs.files.properties), names);
  const outputSchema = JSON.parse(readFileSync(join(ROOT, 'schema', 'output.schema.json'), 'utf8'));
  assert.equal(outputSchema.properties.dialect.enum, names);
});

test('every dialect has its driver, its introspector, its SQL folder and its expected schemas', async () => {
  for (const name of DIALECT_NAMES) {
    const d = DIALECTS[name];
    assert.ok(existsSync(join(SRC, 'dialects', name, 'description.ts')), `src/dialects/${name}/description.ts`);
    assert.ok(existsSync(join(SRC, 'dialects', name, 'driver.ts')), `src/dialects/${name}/driver.ts`);
    assert.ok(existsSync(join(SRC, 'dialects', name, 'introspect.ts')), `src/dialects/${name}/introspect.ts`);
    assert.ok(existsSync(join(ROOT, 'sql', name)), `sql/${name}/`);
    assert.ok(existsSync(join(ROOT, 'schema', 'expected', name)), `schema/expected/${name}/`);
    assert.type(await d.loadIntrospector(), 'function');
    // A server dialect says how to reach the server and back it up; a file dialect neither.
    assert.is(d.server !== null, d.kind === 'server', name);
    assert.is(d.backup.dump !== null, d.kind === 'server', name);
    assert.ok(d.url.schemes.includes(name), `${name}: its own name is one of its URL schemes`);
  }
  const schemes = DIALECT_NAMES.flatMap((n) => DIALECTS[n].url.schemes);
  assert.is(new Set(schemes).size, schemes.length, 'no URL scheme belongs to two dialects');
});

test.run();
