// Start-up cuts of issue 31 (item 2) that could break without a timing to
// show it: the bundle's lazy stand-ins (scripts/lazy-modules.mjs) must still
// work when a run does need the library, and the commands that keep sql.js on
// V8's baseline compiler (src/cli/wasm-tiering.ts) must be commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, ROOT } from './helpers.js';
import { COMMANDS } from '../src/cli/commands.js';
import { READ_ONLY } from '../src/cli/wasm-tiering.js';

test('every read-only command named for the baseline compiler is a command (or --version)', () => {
  for (const id of READ_ONLY) assert.ok(id in COMMANDS || id === '--version' || id === '-v', id);
});

test('a manifest of its own is parsed by the lazily loaded yaml: its error names the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gdb-startup-'));
  try {
    cpSync(join(ROOT, 'sql'), join(dir, 'sql'), { recursive: true });
    const text = readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => /^\s*- version: 43\s*$/.test(l) || /^\s*version: 43\s*$/.test(l));
    assert.ok(at >= 0, 'version 43 in glance-db.yaml');
    lines[at] = lines[at].replace('43', '4x3');
    writeFileSync(join(dir, 'glance-db.yaml'), lines.join('\n'));
    const r = cli(['version', '-c', join(dir, 'glance-db.yaml'), '--url', `sqlite:${join(dir, 'g.sqlite')}`]);
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, `glance-db.yaml:${at + 1}: migrations[1].version`);
    assert.not.match(r.stderr, 'unexpected');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
