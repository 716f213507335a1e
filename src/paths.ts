// Where glance-db is installed. Both ways the code runs sit two folders
// below the package root: dist/src/paths.js (tsc, used by the tests and
// scripts) and dist/bundle/<chunk>.js (esbuild, what bin/run.js loads).
// The single executable (src/sea.ts) has no package folder: it unpacks its
// files once into a private folder and points PACKAGE_ROOT there, before any
// command runs; everything below reads PACKAGE_ROOT when it runs, not when
// its module loads (the executable's start-up snapshot loads them at build time).
import { fileURLToPath } from 'node:url';

export let PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where sql.js finds its WebAssembly; undefined: beside the bundle, where sql.js looks by itself. */
export let SQL_WASM: string | undefined;

export function setPackageRoot(root: string, wasm: string): void {
  PACKAGE_ROOT = root;
  SQL_WASM = wasm;
}
