// Where glance-db is installed. Both ways the code runs sit two folders
// below the package root: dist/src/paths.js (tsc, used by the tests and
// scripts) and dist/bundle/<chunk>.js (esbuild, what bin/run.js loads).
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
