// The pure parts of metadefs: the JSON syntax scan that gives Node 20's
// position-less errors a line, glance-manage's export file names, and the
// planner's reading of --merge, --prefer-new and --overwrite.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { syntaxErrorOffset } from '../src/metadefs/document.js';
import { fileBase } from '../src/metadefs/engine.js';
import type { Namespace } from '../src/metadefs/model.js';
import { planNamespace, type Stored } from '../src/metadefs/store.js';

test('the syntax scan stops where JSON.parse does, and accepts what it accepts', () => {
  const cases = ['{"a": [1, 2,]}', '{"a": 1,}', '{"a" 1}', '[tru]', '{"a": "x\\q"}', '{"a": 01}', '{"a": 1} x', '', '{"a": "\u0001"}', '[1, 2', '{"a": {"b": [null, true, false, -1.5e3, "\\u00e9"]}}'];
  for (const text of cases) {
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    const at = syntaxErrorOffset(text);
    if (valid) assert.is(at, text.length, text);
    else assert.ok(at < text.length || text === '' || /\[1, 2$/.test(text), `${text}: ${at}`);
  }
  assert.is(syntaxErrorOffset('{\n  "a": 1,\n}\n'), 12);
  assert.is(syntaxErrorOffset('{"a": [1, 2,]}'), 12);
});

test("export file names are glance-manage's: the display name's letters and digits", () => {
  assert.is(fileBase('Flavor Quota'), 'FlavorQuota');
  assert.is(fileBase('CIM Processor Allocation Setting'), 'CIMProcessorAllocationSetting');
  assert.is(fileBase('VMware Driver Options for Flavors'), 'VMwareDriverOptionsforFlavors');
  assert.is(fileBase('x_y-z: Ünïcode 2'), 'xyzÜnïcode2');
});

const ns = (over: Partial<Namespace> = {}): Namespace => ({
  namespace: 'N', displayName: 'N', description: null, visibility: 'public', protected: true, owner: 'admin',
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
  assert.equal(planNamespace('f', ns(), stored({ description: 'old' }), off), { namespace: 'N', file: 'f', status: 'skipped', changes: [] });
  assert.is(planNamespace('f', ns(), stored(), merge).status, 'unchanged');
  // Key order inside a JSON schema does not matter; values do.
  assert.is(planNamespace('f', ns({ properties: [{ name: 'a', schema: { type: 'string', title: 'A' } }] }), stored(), merge).status, 'unchanged');
  const changed = ns({ description: 'new', tags: ['t', 'u'], properties: [{ name: 'a', schema: { title: 'A', type: 'integer' } }] });
  const m = planNamespace('f', changed, stored({ tags: ['t', 'old'] }), merge);
  assert.is(m.status, 'updated');
  assert.equal(m.changes.map((c) => `${c.action} ${c.kind} ${c.name}`), ['keep namespace N', 'keep property a', 'add tag u', 'extra tag old']);
  const p = planNamespace('f', changed, stored({ tags: ['t', 'old'] }), { ...merge, preferNew: true });
  assert.equal(p.changes.map((c) => `${c.action} ${c.kind} ${c.name}`), ['update namespace N', 'update property a', 'add tag u', 'extra tag old']);
  const o = planNamespace('f', changed, stored({ tags: ['t', 'old'] }), { ...merge, overwrite: true });
  assert.equal(o.changes.map((c) => c.action), ['update', 'update', 'add', 'remove']);
  // Only a required list that differs is an object change.
  const r = planNamespace('f', ns({ objects: [{ name: 'O', description: null, required: ['x', 'y'], properties: { x: { title: 'X', type: 'integer' } } }] }), stored(), merge);
  assert.equal(r.changes, [{ action: 'keep', kind: 'object', name: 'O', fields: ['required'] }]);
});

test.run();
