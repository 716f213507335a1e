// Where glance-db is installed: three folders above dist/src/platform/paths.js
// (tsc, used by the tests and scripts), two above dist/bundle/<chunk>.js
// (esbuild, what bin/run.js loads).
// The single executable (src/cli/sea.ts) has no package folder: it unpacks its
// files once into a private folder and points PACKAGE_ROOT there, before any
// command runs; everything below reads PACKAGE_ROOT when it runs, not when
// its module loads (the executable's start-up snapshot loads them at build time).
import { fileURLToPath } from 'node:url';

export let PACKAGE_ROOT = fileURLToPath(
  new URL(import.meta.url.endsWith('/dist/src/platform/paths.js') ? '../../../' : '../../', import.meta.url),
);

/** Where sql.js finds its WebAssembly; undefined: beside the bundle, where sql.js looks by itself. */
export let SQL_WASM: string | undefined;

export function setPackageRoot(root: string, wasm: string): void {
  PACKAGE_ROOT = root;
  SQL_WASM = wasm;
}
