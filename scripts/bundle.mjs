// Bundles the compiled CLI (dist/src) into dist/bundle with esbuild: oclif,
// yaml, the schema validator and glance-db's own modules load as a handful of
// files instead of hundreds, which was most of the start-up time left. The
// drivers stay lazy: each is a chunk of its own, loaded only for its dialect.
// sql.js's WebAssembly is copied beside the chunks, where sql.js looks for it
// (its __dirname), so the installed package needs no node_modules at all.
//   node scripts/bundle.mjs   (part of npm run build)
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { lazyModules } from './lazy-modules.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // run-cli: the CLI inside the tests' process (src/cli/run-cli.ts); the binary never loads it.
  entryPoints: {
    cli: 'dist/src/cli/cli.js',
    commands: 'dist/src/cli/commands.js',
    help: 'dist/src/cli/help.js',
    'run-cli': 'dist/src/cli/run-cli.js',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // The CommonJS dependencies use require() and __dirname; give every chunk of the ES module bundle both.
  banner: {
    js: [
      "import { createRequire as glanceDbCreateRequire } from 'node:module';",
      "import { dirname as glanceDbDirname } from 'node:path';",
      "import { fileURLToPath as glanceDbFileURLToPath } from 'node:url';",
      'const require = glanceDbCreateRequire(import.meta.url);',
      'const __filename = glanceDbFileURLToPath(import.meta.url);',
      'const __dirname = glanceDbDirname(__filename);',
    ].join(' '),
  },
  chunkNames: '[name]-[hash]',
  // Names kept (stack traces with GLANCE_DB_DEBUG=1 stay readable); only whitespace and syntax shrink.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [lazyModules()],
  logLevel: 'warning',
});
copyFileSync(createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm'), `${outdir}/sql-wasm.wasm`);
