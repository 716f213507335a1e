#!/usr/bin/env node
// Builds the one file an air-gapped site copies: an npm tarball holding the
// compiled JS, the SQL, the manifest, the JSON Schema, the sql.js
// WebAssembly and every runtime dependency (bundleDependencies), so that
// `npm install -g ./glance-db-X.tgz --offline` fetches nothing.
// Prints the tarball's path, size and SHA-256.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const missing = Object.keys(pkg.dependencies).filter((d) => !(pkg.bundleDependencies ?? []).includes(d));
if (missing.length) {
  console.error(`package.json: bundleDependencies lacks ${missing.join(', ')}; the tarball would need a registry.`);
  process.exit(1);
}
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const out = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', root], { cwd: root, encoding: 'utf8' }));
const file = join(root, out[0].filename);
const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
const mib = (statSync(file).size / 1024 / 1024).toFixed(1);
console.log(`tarball: ${file}`);
console.log(`size:    ${mib} MiB (${out[0].entryCount} files)`);
console.log(`sha256:  ${sha}`);
console.log(`verify:  sha256sum ${out[0].filename}   # must print ${sha}`);
