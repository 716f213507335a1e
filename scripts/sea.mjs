#!/usr/bin/env node
// Builds the single executable: glance-db-<platform>-<arch>, a copy of the
// running node binary with glance-db injected (Node's single executable
// applications: https://nodejs.org/docs/latest-v24.x/api/single-executable-applications.html).
// 1. esbuild bundles dist/src/cli/sea.js (src/cli/sea.ts) and everything it imports,
//    drivers included, into one CommonJS script: what a Node single
//    executable runs (it cannot import() files, and require() gives only
//    Node's built-in modules);
// 2. node --experimental-sea-config runs that script once to take a V8
//    start-up snapshot (useSnapshot), and stores it with the assets: the
//    SQL, the manifest, the JSON Schemas, the expected schemas, package.json
//    and sql.js's WebAssembly;
// 3. postject injects the blob into a copy of node.
// Run after npm run build (scripts/package.mjs does both).
//   node scripts/sea.mjs [--out DIR] [--no-snapshot]   prints the executable's path
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : root;
const snapshot = !process.argv.includes('--no-snapshot');
const work = join(root, 'dist', 'sea');
const require = createRequire(import.meta.url);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// What glance-db and oclif read of package.json at run time.
writeFileSync(
  join(work, 'package.json'),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, type: pkg.type, oclif: pkg.oclif }, null, 2)}\n`,
);

const files = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
const assets = {
  'package.json': join(work, 'package.json'),
  'glance-db.yaml': join(root, 'glance-db.yaml'),
  'sql-wasm.wasm': require.resolve('sql.js/dist/sql-wasm.wasm'),
};
for (const f of [...files('sql'), ...files('schema')]) assets[f.split('\\').join('/')] = join(root, f);
const hash = createHash('sha256');
for (const [key, file] of Object.entries(assets).sort()) hash.update(`${key}\0`).update(readFileSync(file));

const bundle = join(work, 'sea.cjs');
await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/sea.js'],
  outfile: bundle,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  // A CommonJS script has no import.meta; the modules that use it only need a file URL to start from.
  // Without a snapshot, oclif's check of its own package.json (a require() from disk) would warn at every run.
  banner: {
    js: `var glanceDbImportMetaUrl = require("node:url").pathToFileURL(__filename).href;${snapshot ? '' : ' process.env.OCLIF_DISABLE_ENGINE_WARNING ??= "1";'}`,
  },
  define: {
    'import.meta.url': 'glanceDbImportMetaUrl',
    GLANCE_DB_SEA: JSON.stringify({
      pjson: JSON.parse(readFileSync(join(work, 'package.json'), 'utf8')),
      assets: Object.keys(assets).sort(),
      id: `${pkg.version}-${hash.digest('hex').slice(0, 12)}`,
    }),
  },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'error',
});

const config = join(work, 'sea-config.json');
const blob = join(work, 'sea-prep.blob');
writeFileSync(
  config,
  JSON.stringify(
    {
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: snapshot,
      useCodeCache: !snapshot,
      assets,
    },
    null,
    2,
  ),
);
// Both tools print warnings that are expected here (Node: which built-in modules
// are not yet verified in snapshots; postject: ELF notes it cannot name); shown only if they fail.
const quiet = (args, cwd) => {
  try {
    execFileSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    process.stderr.write(
      `${err.stdout ?? ''}${err.stderr ?? ''}sea: ${args.slice(0, 2).join(' ')} failed (exit ${err.status})\n`,
    );
    process.exit(1);
  }
};
quiet(['--experimental-sea-config', config], work);

mkdirSync(outDir, { recursive: true });
const exe = join(outDir, `glance-db-${process.platform}-${process.arch}`);
rmSync(exe, { force: true });
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
quiet(
  [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  root,
);
console.log(`executable: ${exe}`);
console.log(`size:       ${(statSync(exe).size / 1024 / 1024).toFixed(1)} MiB`);
