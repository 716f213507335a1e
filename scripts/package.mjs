#!/usr/bin/env node
// Builds the one file an air-gapped site copies: an npm tarball holding the
// bundle (dist/bundle: glance-db and every library it runs with, compiled
// into a few files by scripts/bundle.mjs, and the sql.js WebAssembly), the
// SQL, the manifest and the JSON Schema, so that
// `npm install -g ./glance-db-X.tgz --offline` fetches nothing.
// Beside it, the single executable glance-db-<platform>-<arch> (scripts/sea.mjs):
// the same glance-db with Node.js itself inside, for a host without Node.
// The man page (man/glance-db.1, package.json "man") goes in the tarball too,
// and npm links it into PREFIX/share/man/man1 at install.
// Prints the path, size and SHA-256 of both.
//   node scripts/package.mjs [--out DIR] [--no-executable]
// --no-executable: the tarball alone (test/container, which installs only the
// tarball, skips building an executable it never runs).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : root;
const pkgPath = join(root, 'package.json');
const original = readFileSync(pkgPath, 'utf8');
const pkg = JSON.parse(original);
const runtime = Object.keys(pkg.dependencies ?? {});
if (runtime.length) {
  console.error(
    `package.json: ${runtime.join(', ')} in "dependencies" would need a registry at install time; libraries belong in devDependencies, bundled by scripts/bundle.mjs.`,
  );
  process.exit(1);
}
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
// The tarball ships the man page and docs/reference/: never stale ones.
const docs = spawnSync(process.execPath, [join(root, 'scripts', 'gen-docs.mjs'), '--check'], {
  cwd: root,
  encoding: 'utf8',
});
if (docs.status !== 0) {
  console.error(`${docs.stdout}${docs.stderr}`.trim());
  console.error(
    'The package ships man/glance-db.1 and the generated pages of docs/: run npm run docs, commit, then package.',
  );
  process.exit(1);
}
// The installed package is already built: ship it without the developer's
// lifecycle scripts, which would only ask an offline host to run tsc.
const shipped = { ...pkg, scripts: {}, devDependencies: undefined };
let out;
try {
  writeFileSync(pkgPath, `${JSON.stringify(shipped, null, 2)}\n`);
  out = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );
} finally {
  writeFileSync(pkgPath, original);
}
const file = join(outDir, out[0].filename);
const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
const mib = (statSync(file).size / 1024 / 1024).toFixed(1);
console.log(`tarball: ${file}`);
console.log(`size:    ${mib} MiB (${out[0].entryCount} files)`);
console.log(`sha256:  ${sha}`);
console.log(`verify:  sha256sum ${out[0].filename}   # must print ${sha}`);
if (process.argv.includes('--no-executable')) process.exit(0);
const seaOut = execFileSync(process.execPath, [join(root, 'scripts', 'sea.mjs'), '--out', outDir], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const exe = /^executable: (.*)$/m.exec(seaOut)[1];
const exeSha = createHash('sha256').update(readFileSync(exe)).digest('hex');
console.log(`executable: ${exe}`);
console.log(`size:       ${(statSync(exe).size / 1024 / 1024).toFixed(1)} MiB (Node.js ${process.version} inside)`);
console.log(`sha256:     ${exeSha}`);
