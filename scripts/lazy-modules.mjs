// An esbuild plugin for scripts/bundle.mjs: libraries that the bundle imports
// at its top but that most runs never call are loaded on first use instead of
// at start-up (issue 31: every deploy runs a no-op sync, and each of these
// cost CPU at every start, 2-20 ms apiece, measured with --cpu-prof).
// - yaml: glance-db parses only a manifest of its own (the shipped one comes
//   parsed from the build) and the metadata definitions; the modules that
//   import it get functions of the same names that load it when called (a
//   name missing from YAML_NAMES fails the build: no such export).
// - CommonJS packages that oclif requires at the top of its modules but uses
//   only for commands discovered by pattern, help, templates or debugging:
//   their require() returns an object that loads the package at its first
//   property read; so do mysql2's 'long' (big integers) and 'iconv-lite'
//   (character sets other than UTF-8). Packages that are ES modules, or that set __esModule, are
//   left as they are (the stand-in could not answer like them without loading).
// Not used for the single executable (scripts/sea.mjs): its V8 snapshot has
// every module loaded already.
import { createRequire } from 'node:module';

const YAML_NAMES = ['parseDocument', 'LineCounter', 'isMap', 'isSeq'];
const LAZY_CJS = [
  'tinyglobby',
  'minimatch',
  'ejs',
  'debug',
  'cli-spinners',
  'clean-stack',
  'lilconfig',
  'long',
  'iconv-lite',
];
// mysql2's own files of the same kind: the table of the server's 3,000-odd error names (read for an error) and
// the CA bundles of its named TLS profiles ('Amazon RDS', which glance-db never names).
const LAZY_FILES = /^\.\.?\/(constants\/)?(errors|ssl_profiles)\.js$/;
const LAZY_FILES_IN = /[\\/]node_modules[\\/]mysql2[\\/]lib[\\/]/;

export function lazyModules() {
  return {
    name: 'glance-db-lazy-modules',
    setup(build) {
      // Only glance-db's own import of yaml; yaml's own files use relative paths.
      build.onResolve({ filter: /^yaml$/ }, (args) =>
        args.namespace === 'lazy' ? undefined : { path: 'yaml', namespace: 'lazy', pluginData: { kind: 'yaml' } },
      );
      const lazyCjs = (args) => {
        if (args.namespace === 'lazy' || args.kind !== 'require-call') return undefined;
        if (args.path.startsWith('.') && !LAZY_FILES_IN.test(args.importer)) return undefined;
        let real, file;
        try {
          file = createRequire(args.importer).resolve(args.path);
          real = createRequire(args.importer)(args.path);
        } catch {
          return undefined;
        }
        // A namespace of an ES module, or a module that says it is one: left alone.
        if (real === null || (typeof real !== 'object' && typeof real !== 'function')) return undefined;
        if (Object.prototype.toString.call(real) === '[object Module]' || real.__esModule) return undefined;
        return { path: file, namespace: 'lazy', pluginData: { kind: 'cjs', resolveDir: args.resolveDir } };
      };
      build.onResolve({ filter: new RegExp(`^(${LAZY_CJS.join('|')})$`) }, lazyCjs);
      build.onResolve({ filter: LAZY_FILES }, lazyCjs);
      build.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
        if (args.pluginData.kind === 'yaml') {
          const fns = YAML_NAMES.map((n) =>
            n === 'LineCounter'
              ? `export function LineCounter() { const C = load().LineCounter; return new C(); }`
              : `export function ${n}(...a) { return load().${n}(...a); }`,
          );
          return {
            contents: `let m;\nconst load = () => (m ??= require('yaml'));\n${fns.join('\n')}\n`,
            loader: 'js',
            resolveDir: build.initialOptions.absWorkingDir ?? process.cwd(),
          };
        }
        return {
          contents: [
            'let m;',
            `const load = () => (m ??= require(${JSON.stringify(args.path)}));`,
            'module.exports = new Proxy(() => {}, {',
            "  get: (_, k) => (k === '__esModule' ? undefined : load()[k]),",
            '  apply: (_, self, a) => load().apply(self, a),',
            '  has: (_, k) => k in load(),',
            '  ownKeys: () => Reflect.ownKeys(load()),',
            '  getOwnPropertyDescriptor: (_, k) => {',
            '    const d = Reflect.getOwnPropertyDescriptor(load(), k);',
            '    return d && { ...d, configurable: true };',
            '  },',
            '});',
          ].join('\n'),
          loader: 'js',
          resolveDir: args.pluginData.resolveDir,
        };
      });
    },
  };
}
