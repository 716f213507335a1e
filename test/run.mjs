#!/usr/bin/env node
// Runs the compiled uvu suites (dist/test/**/*.test.js) one file per process
// and ends with the line CI reads: "N passed, M failed".
// uvu's own summary ("Total: / Passed:") is not in that form.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testDir = join(root, 'dist', 'test');
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of walk(testDir).sort()) {
  const rel = relative(root, file);
  if (filter && !filter.test(rel)) continue;
  const res = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8', env: process.env });
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
  const total = Number(/Total:\s+(\d+)/.exec(res.stdout)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(res.stdout)?.[1] ?? 0);
  const skip = Number(/Skipped:\s+(\d+)/.exec(res.stdout)?.[1] ?? 0);
  passed += ok;
  skipped += skip;
  if (res.status !== 0 && total === ok) {
    // The file crashed before or outside its tests: count it as one failure.
    console.error(`${rel}: exited with ${res.status ?? res.signal} outside any test`);
    failed += 1;
  } else {
    failed += total - ok;
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
