// The pure parts of metadefs: the JSON parser and serializer (values kept as
// written, no recursion), UTF-8 checking, glance-manage's export file names,
// and the planner's reading of --merge, --prefer-new and --overwrite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalNumber,
  depthOf,
  invalidUtf8At,
  jsonEqual,
  JsonNumber,
  pythonDumps,
  pythonNumber,
  stringify,
  toPlain,
} from '../src/glance/metadefs/json.js';
import { JsonSyntaxError, parseJson } from '../src/glance/metadefs/json-parse.js';
import { FIXTURES } from './metadefs.js';
import { fileBase } from '../src/app/metadefs.js';
import type { Namespace } from '../src/glance/metadefs/model.js';
import { planNamespace, type Stored } from '../src/glance/metadefs/store.js';

test('the parser accepts what JSON.parse accepts and stops where it does, with the same values', () => {
  const cases = [
    '{"a": [1, 2,]}',
    '{"a": 1,}',
    '{"a" 1}',
    '[tru]',
    '{"a": "x\\q"}',
    '{"a": 01}',
    '{"a": 1} x',
    '',
    '{"a": "\u0001"}',
    '[1, 2',
    '{"a": {"b": [null, true, false, -1.5e3, "\\u00e9"]}}',
    ' {"__proto__": {"x": 1}, "a": "\\ud800\\n\\"\\/"} ',
    '[]',
    '{}',
    '"s"',
    '-0',
    '1E+2',
    '[1,]',
    '{"a":1 "b":2}',
    '{"a":}',
    '"\\u12"',
    '[.5]',
    '[1.]',
    '[-]',
    '{"a": 1}}',
  ];
  for (const text of cases) {
    let expected: unknown;
    let valid = true;
    try {
      expected = JSON.parse(text);
    } catch {
      valid = false;
    }
    let got: unknown;
    try {
      got = toPlain(parseJson(text).value);
    } catch (err) {
      assert.ok(err instanceof JsonSyntaxError, text);
      assert.not.ok(valid, `${text}: ${(err as Error).message}`);
      assert.ok((err as JsonSyntaxError).offset <= text.length, text);
      continue;
    }
    assert.ok(valid, `${text} parsed but JSON.parse refuses it`);
    assert.equal(got, expected, text);
    assert.is(JSON.stringify(got), JSON.stringify(expected), `${text}: key order and own "__proto__"`);
  }
  const at = (t: string) => {
    try {
      parseJson(t);
      return -1;
    } catch (err) {
      return (err as JsonSyntaxError).offset;
    }
  };
  assert.is(at('{\n  "a": 1,\n}\n'), 12);
  assert.is(at('{"a": [1, 2,]}'), 12);
});

test('numbers keep the text they were written with; equality is by exact value', () => {
  const v = parseJson(
    '{"a": 9007199254740993, "b": 123456789012345678901234567890, "c": 1.0, "d": 0.10000000000000000555, "e": -0}',
  ).value as Record<string, JsonNumber>;
  assert.is(
    stringify(v),
    '{"a":9007199254740993,"b":123456789012345678901234567890,"c":1.0,"d":0.10000000000000000555,"e":-0}',
  );
  assert.ok(
    jsonEqual(v.c, 1) &&
      jsonEqual(new JsonNumber('10e-1'), 1) &&
      jsonEqual(new JsonNumber('100'), new JsonNumber('1e2')) &&
      jsonEqual(v.e, 0),
  );
  assert.not.ok(jsonEqual(v.a, 9007199254740992), 'JSON.parse makes these equal');
  assert.not.ok(jsonEqual(v.a, new JsonNumber('9007199254740992')));
  assert.not.ok(jsonEqual(v.d, 0.1));
  assert.ok(jsonEqual({ x: [1, { y: new JsonNumber('2.50') }] }, { x: [new JsonNumber('1'), { y: 2.5 }] }));
  assert.is(canonicalNumber('-0.00120e-3'), '-12e-7');
  assert.is(canonicalNumber('1e99999999999999999999'), '1e99999999999999999999');
  // A double cannot hold these at all: problems, with their path.
  const p = parseJson('{"p": {"maximum": -1e999, "minimum": 1e-400, "ok": 0e-999}}', { checkRange: true }).problems;
  assert.equal(
    p.map((x) => x.path),
    [
      ['p', 'maximum'],
      ['p', 'minimum'],
    ],
  );
  assert.match(p[0].message, 'out of range');
});

test("JSON.stringify's layout, compact and indented, for the fixtures and assorted values", () => {
  const texts = readdirSync(FIXTURES).map((f) => readFileSync(join(FIXTURES, f), 'utf8'));
  texts.push(
    '{"a": [], "b": {}, "c": [[], [{}]], "d": "\\u2028\\ud83d\\ude00\\ud800 \\"q\\" \\t", "e": null, "f": [true, false, 1.5, -2e-7], "g": {"h": {"i": [1, [2, [3]]]}}}',
  );
  for (const t of texts) {
    const plain = JSON.parse(t);
    // Plain numbers, for the layout: JSON.stringify writes 4.0 as 4, stringify keeps a JsonNumber's 4.0.
    const v = toPlain(parseJson(t).value);
    assert.is(stringify(v), JSON.stringify(plain));
    assert.is(stringify(v, { indent: 4 }), JSON.stringify(plain, null, 4));
    assert.is(stringify(v, { indent: 2 }), JSON.stringify(plain, null, 2));
    assert.equal(JSON.parse(stringify(parseJson(t).value, { indent: 4 })), plain);
  }
  // Characters above maxCodePoint become \u escapes: the same JSON value, text a utf8mb3 or latin1 column holds.
  const s = { k: 'é😀\u0000x', 'ключ😀': 1 };
  for (const max of [0x7f, 0xff, 0xffff]) {
    const t = stringify(s, { maxCodePoint: max });
    assert.ok(
      [...t].every((c) => c.codePointAt(0)! <= max),
      t,
    );
    assert.equal(JSON.parse(t), s);
  }
});

test('deep values: parse, compare, serialize, measure and copy without recursion; the limit is a problem with its path, not a crash', () => {
  const n = 100_000;
  const text = `${'{"a":['.repeat(n)}1${']}'.repeat(n)}`;
  const v = parseJson(text).value;
  assert.is(depthOf(v), 2 * n);
  assert.is(stringify(v), text);
  const d3000 = parseJson(`${'['.repeat(3000)}${']'.repeat(3000)}`).value;
  assert.equal(JSON.parse(stringify(d3000, { indent: 4 })), d3000);
  assert.ok(jsonEqual(v, parseJson(text).value));
  assert.not.ok(jsonEqual(v, parseJson(text.replace('1]', '2]')).value));
  assert.is(depthOf(toPlain(v)), 2 * n);
  const limited = parseJson(`{"p": ${text}, "q": 1}`, { maxDepth: 100 });
  assert.is(limited.problems.length, 1);
  assert.is(limited.problems[0].message, 'nested more than 100 levels deep');
  assert.is(limited.problems[0].path.length, 100);
  assert.is((limited.value as Record<string, JsonNumber>).q.text, '1', 'the rest of the document is still read');
  assert.throws(
    () => parseJson(`{"p": ${text.slice(0, -1)}}`, { maxDepth: 100 }),
    (e: unknown) => e instanceof JsonSyntaxError,
  );
});

test("glance-manage's export format: numbers, strings and layout as Python's json.loads then json.dumps writes them (expected values from CPython 3)", () => {
  const numbers: [string, string][] = [
    ['1', '1'],
    ['-0', '0'],
    ['12345678901234567890', '12345678901234567890'],
    ['1.0', '1.0'],
    ['-0.0', '-0.0'],
    ['0.5', '0.5'],
    ['100.0', '100.0'],
    ['1e-05', '1e-05'],
    ['0.0001', '0.0001'],
    ['1e+16', '1e+16'],
    ['1E2', '100.0'],
    ['1.5e300', '1.5e+300'],
    ['1e400', 'Infinity'],
    ['-1e400', '-Infinity'],
    ['123456789012345678.0', '1.2345678901234568e+17'],
    ['0.1', '0.1'],
    ['2.5e-7', '2.5e-07'],
    ['9007199254740993.0', '9007199254740992.0'],
    ['1e15', '1000000000000000.0'],
    ['1e16', '1e+16'],
    ['-3.25', '-3.25'],
  ];
  for (const [text, python] of numbers) assert.is(pythonNumber(text), python, text);
  const value = parseJson(
    '{"a": "\\u00e9\\u2028\\ud83d\\ude00\\u007f\\"\\\\\\n\\t\\u0001", "b": [1, null, true, {}], "c": {}}',
  ).value;
  assert.is(
    pythonDumps(value),
    '{"a": "\\u00e9\\u2028\\ud83d\\ude00\\u007f\\"\\\\\\n\\t\\u0001", "b": [1, null, true, {}], "c": {}}',
  );
  assert.is(
    pythonDumps({ protected: 1, x: [], y: 'é', n: parseJson('[1.50, 7]').value }),
    '{"protected": 1, "x": [], "y": "\\u00e9", "n": [1.5, 7]}',
  );
});

test('invalidUtf8At finds the first byte TextDecoder refuses, and nothing in valid UTF-8', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const cases: [number[], number][] = [
    [[0x61, 0xff, 0x62], 1],
    [[0xc0, 0x80], 0],
    [[0xe0, 0x80, 0x80], 0],
    [[0xed, 0xa0, 0x80], 0],
    [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0x61, 0xe2, 0x82], 1],
    [[0x80], 0],
    [[0xf0, 0x9f, 0x98, 0x80, 0x41], -1],
    [[0xc3, 0xa9, 0xe2, 0x82, 0xac], -1],
    [[0xef, 0xbb, 0xbf, 0x7b, 0x7d], -1],
  ];
  for (const [bytes, at] of cases) {
    const buf = Uint8Array.from(bytes);
    assert.is(invalidUtf8At(buf), at, bytes.join(' '));
    let ok = true;
    try {
      fatal.decode(buf);
    } catch {
      ok = false;
    }
    assert.is(ok, at === -1, bytes.join(' '));
  }
});

test("export file names are glance-manage's: the display name's letters and digits", () => {
  assert.is(fileBase('Flavor Quota'), 'FlavorQuota');
  assert.is(fileBase('CIM Processor Allocation Setting'), 'CIMProcessorAllocationSetting');
  assert.is(fileBase('VMware Driver Options for Flavors'), 'VMwareDriverOptionsforFlavors');
  assert.is(fileBase('x_y-z: Ünïcode 2'), 'xyzÜnïcode2');
});

const ns = (over: Partial<Namespace> = {}): Namespace => ({
  namespace: 'N',
  displayName: 'N',
  description: null,
  visibility: 'public',
  protected: true,
  owner: 'admin',
  associations: [{ name: 'OS::Glance::Image', prefix: 'p_', propertiesTarget: null }],
  properties: [{ name: 'a', schema: { title: 'A', type: 'string' } }],
  objects: [{ name: 'O', description: null, required: ['x'], properties: { x: { title: 'X', type: 'integer' } } }],
  tags: ['t'],
  ...over,
});
const stored = (over: Partial<Namespace> = {}): Stored => ({ id: 1, ...ns(over) });

test('the planner follows glance-manage: skip without --merge, add-only with --merge, replace with --prefer-new / --overwrite', () => {
  const off = { merge: false, preferNew: false, overwrite: false };
  const merge = { ...off, merge: true };
  assert.is(planNamespace('f', ns(), null, off).status, 'added');
  assert.equal(planNamespace('f', ns(), stored({ description: 'old' }), off), {
    namespace: 'N',
    file: 'f',
    status: 'skipped',
    changes: [],
  });
  assert.is(planNamespace('f', ns(), stored(), merge).status, 'unchanged');
  // Key order inside a JSON schema does not matter; values do.
  assert.is(
    planNamespace('f', ns({ properties: [{ name: 'a', schema: { type: 'string', title: 'A' } }] }), stored(), merge)
      .status,
    'unchanged',
  );
  const changed = ns({
    description: 'new',
    tags: ['t', 'u'],
    properties: [{ name: 'a', schema: { title: 'A', type: 'integer' } }],
  });
  const m = planNamespace('f', changed, stored({ tags: ['t', 'old'] }), merge);
  assert.is(m.status, 'updated');
  assert.equal(
    m.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
    ['keep namespace N', 'keep property a', 'add tag u', 'extra tag old'],
  );
  const p = planNamespace('f', changed, stored({ tags: ['t', 'old'] }), { ...merge, preferNew: true });
  assert.equal(
    p.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
    ['update namespace N', 'update property a', 'add tag u', 'extra tag old'],
  );
  const o = planNamespace('f', changed, stored({ tags: ['t', 'old'] }), { ...merge, overwrite: true });
  assert.equal(
    o.changes.map((c) => c.action),
    ['update', 'update', 'add', 'remove'],
  );
  // Only a required list that differs is an object change.
  const r = planNamespace(
    'f',
    ns({
      objects: [
        { name: 'O', description: null, required: ['x', 'y'], properties: { x: { title: 'X', type: 'integer' } } },
      ],
    }),
    stored(),
    merge,
  );
  assert.equal(r.changes, [{ action: 'keep', kind: 'object', name: 'O', fields: ['required'] }]);
});

test.run();
