#!/usr/bin/env node
// Writes the generated reference (src/cli/reference.ts): docs/reference/commands.md
// and man/glance-db.1 from the oclif command metadata (the same source as
// --help), docs/reference/exit-codes.md, README.md's exit-code table and
// docs/reference/json-output.md's error names from src/platform/exit-codes.ts.
// test/docs-unit fails while any of them is stale.
//   npm run docs          (builds first)
//   node scripts/gen-docs.mjs [--check]   (after npm run build; --check writes nothing, exit 1 when stale)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { loadReferenceInput, staleFiles } = await import(join(root, 'dist', 'src', 'cli', 'reference.js'));
const read = (p) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : null);
const stale = staleFiles(await loadReferenceInput(root), read);
const check = process.argv.includes('--check');
for (const { path, want } of stale) {
  if (check) console.log(`stale: ${path}`);
  else {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), want);
    console.log(`wrote ${path}`);
  }
}
if (!stale.length) console.log('the generated reference is up to date');
else if (check) {
  console.log('run npm run docs to regenerate');
  process.exit(1);
}
