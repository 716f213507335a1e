// The import rules of the layered layout (issue 29, ARCHITECTURE.md), read
// from the sources with a scanner of our own (no dependency): every file of
// src/ belongs to one layer, and a layer imports only the layers below it:
//
//   cli -> app -> { glance -> core } -> core ports <- dialects/<name>
//   every layer -> platform; platform -> nothing of the project
//   the registry (src/dialects/*.ts) -> the dialect folders and the ports
//
// no import circles (run time or type level: an `import type` counts),
// `process.` only in src/cli, and no word of Glance in src/core and
// src/dialects (the project's names come in through ports and hooks). What today's code still breaks is listed below,
// edge by edge, with the reason; an entry that no longer breaks a rule fails
// the test, so the lists only shrink.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');

// ------------------------------------------------------------------ layers
type Layer = 'cli' | 'app' | 'glance' | 'core' | 'ports' | 'registry' | `dialect:${string}` | 'platform';

/** The core files a dialect may import: the driver contract and what every driver shares, the schema model. */
const PORTS = [/^src\/core\/driver\//, /^src\/core\/introspect\/(model|normalize)\.ts$/];

function layerOf(file: string): Layer | null {
  if (file.startsWith('src/cli/')) return 'cli';
  if (file.startsWith('src/app/')) return 'app';
  if (file.startsWith('src/glance/')) return 'glance';
  if (PORTS.some((p) => p.test(file))) return 'ports';
  if (file.startsWith('src/core/')) return 'core';
  if (file.startsWith('src/platform/')) return 'platform';
  const d = /^src\/dialects\/([^/]+)\//.exec(file);
  if (d) return `dialect:${d[1]}`;
  if (/^src\/dialects\/[^/]+$/.test(file)) return 'registry';
  return null;
}

/** What each layer may import (besides itself; a dialect only its own folder). */
const MAY_IMPORT: Record<string, Layer[]> = {
  cli: ['app', 'glance', 'core', 'ports', 'registry', 'platform'],
  app: ['glance', 'core', 'ports', 'registry', 'platform'],
  glance: ['core', 'ports', 'platform'],
  core: ['ports', 'platform'],
  ports: ['platform'],
  registry: ['ports', 'platform'], // and every dialect folder: see allowed()
  dialect: ['ports', 'platform'],
  platform: [],
};

function allowed(from: string, to: string): boolean {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === null || b === null) return false;
  if (a === b) return true;
  if (a === 'registry' && b.startsWith('dialect:')) return true;
  return MAY_IMPORT[a.startsWith('dialect:') ? 'dialect' : a].includes(b);
}

// ----------------------------------------------------------------- scanner
/** The text without its comments (strings kept, so that `'//'` in a URL stays). */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let quote: string | null = null;
  while (i < text.length) {
    const c = text[i];
    const n = text[i + 1];
    if (quote) {
      out += c;
      if (c === '\\') {
        out += n ?? '';
        i += 2;
        continue;
      }
      if (c === quote) quote = null;
      i++;
    } else if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      const skipped = text.slice(i, end < 0 ? text.length : end + 2);
      out += skipped.replace(/[^\n]/g, ' ');
      i += skipped.length;
    } else {
      if (c === "'" || c === '"' || c === '`') quote = c;
      out += c;
      i++;
    }
  }
  return out;
}

interface Import {
  spec: string;
  typeOnly: boolean;
}

/** Every module a file names: import/export ... from, side-effect imports, import(), typeof import(), require(). */
function importsOf(text: string): Import[] {
  const code = stripComments(text);
  const found: Import[] = [];
  const statement = /(?:^|[;\n}])\s*(import|export)(\s+type)?\s+([^;'"]*?)\s*from\s*(['"])([^'"]+)\4/g;
  for (const m of code.matchAll(statement)) {
    const names = m[3];
    const allTypes =
      /^\{[^}]*\}$/.test(names.trim()) &&
      names
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter(Boolean)
        .every((n) => n.startsWith('type'));
    found.push({ spec: m[5], typeOnly: Boolean(m[2]) || allTypes });
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*(['"])([^'"]+)\1/g))
    found.push({ spec: m[2], typeOnly: false });
  for (const m of code.matchAll(/(\btypeof\s+)?\bimport\s*\(\s*(['"])([^'"]+)\2\s*\)/g))
    found.push({ spec: m[3], typeOnly: Boolean(m[1]) });
  for (const m of code.matchAll(/\brequire\s*\(\s*(['"])([^'"]+)\1\s*\)/g)) found.push({ spec: m[2], typeOnly: false });
  return found;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** A relative specifier of `from` -> the source file it names (`.js` -> `.ts` or `.d.ts`). */
function resolve(from: string, spec: string): string | null {
  const target = posix.normalize(posix.join(posix.dirname(from), spec));
  for (const c of [target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.d.ts')])
    if (c.startsWith('src/') && existsSync(join(ROOT, c)) && c.endsWith('.ts')) return c;
  return null;
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

const FILES = walk(SRC)
  .map((f) => relative(ROOT, f).split('\\').join('/'))
  .sort();
const EDGES: Edge[] = [];
const UNRESOLVED: string[] = [];
for (const from of FILES) {
  const seen = new Map<string, boolean>();
  for (const { spec, typeOnly } of importsOf(readFileSync(join(ROOT, from), 'utf8'))) {
    if (!spec.startsWith('.')) continue;
    const to = resolve(from, spec);
    if (to === null) {
      UNRESOLVED.push(`${from} -> ${spec}`);
      continue;
    }
    seen.set(to, (seen.get(to) ?? true) && typeOnly);
  }
  for (const [to, typeOnly] of seen) EDGES.push({ from, to, typeOnly });
}

/** A path from `start` to `goal` over the edges, or null. */
function pathBetween(edges: Edge[], start: string, goal: string): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const back = new Map<string, string>([[start, '']]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift() as string;
    if (at === goal && at !== start) break;
    for (const to of next.get(at) ?? []) {
      if (to === goal) {
        const path = [goal, at];
        for (let p = back.get(at); p; p = back.get(p)) path.push(p);
        return path.reverse();
      }
      if (!back.has(to)) {
        back.set(to, at);
        queue.push(to);
      }
    }
  }
  return null;
}

/** One import circle of a graph, found by a depth-first search, or null. */
function findCycle(edges: Edge[]): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 'open');
    stack.push(n);
    for (const to of [...(next.get(n) ?? [])].sort()) {
      if (state.get(to) === 'open') return [...stack.slice(stack.indexOf(to)), to];
      if (!state.has(to)) {
        const found = visit(to);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of [...next.keys()].sort()) {
    if (state.has(n)) continue;
    const found = visit(n);
    if (found) return found;
  }
  return null;
}

// --------------------------------------------------------------- allowlists
/**
 * Imports that break a layer rule or close an import circle today, `from -> to`.
 * Each is a piece of issue 29's remaining work; fix one, delete its line.
 */
const ALLOWED_EDGES: string[] = [];

/** Files outside src/cli that may read `process.`, and why. */
const PROCESS_ALLOWED: Record<string, string> = {
  // Platform entry points: what they do is the process's own business.
  'src/platform/atomic-write.ts': 'process.umask(): the mode a new file gets',
  'src/platform/file-lock.ts':
    "process.pid and process.kill(pid, 0): a lock file names its owner, a stale one's owner is gone",
  'src/platform/sqlite-holds.ts':
    "process.getBuiltinModule('node:sqlite') and its warning, process.on('exit'): the lock of SQLite's own format, released at exit",
  'src/platform/output.ts':
    'process.umask() for the mode of a file it writes; process.stdout/stderr in outliveClosedOutput (belongs in cli)',
  'src/platform/output-place.ts': "process.geteuid(): the links and folders that are the running user's own",
  'src/platform/tls.ts': "process.env as the default: the PG* variables libpq's clients read too",
  'src/platform/tls-settings.ts':
    "process.getuid() (a key file others can read) and process.getBuiltinModule('node:tls') (loaded when a connection needs it)",
  'src/dialects/mysql/lock.ts': "process.pid: the lock holder's name, shown to who waits",
  'src/platform/sink.ts':
    "the default output sink: process.stdout/stderr and process.exit (with the process's exitCode), which src/cli's runCli replaces for a run in process",
};

// -------------------------------------------------------------------- tests
const key = (e: { from: string; to: string }) => `${e.from} -> ${e.to}`;
const ALLOW = new Set(ALLOWED_EDGES);

test('the scanner sees every form an import takes', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from './b.js';",
    "import {\n  type C,\n  type D,\n} from './c.js';",
    "import { type E, f } from './e.js';",
    "export * from './g.js';",
    "export { h } from './h.js';",
    "import './side.js';",
    "const m = await import('./lazy.js');",
    "type S = typeof import('./typed.js');",
    "const r = require('./req.cjs');",
    "// import { no } from './comment.js';",
    "/* import { no } from './block.js'; */",
    "const u = 'mysql://x'; import { after } from './after.js';",
  ].join('\n');
  assert.equal(
    importsOf(text)
      .map((i) => `${i.spec}${i.typeOnly ? ' (type)' : ''}`)
      .sort(),
    [
      './a.js',
      './after.js',
      './b.js (type)',
      './c.js (type)',
      './e.js',
      './g.js',
      './h.js',
      './lazy.js',
      './req.cjs',
      './side.js',
      './typed.js (type)',
    ],
  );
});

test('the rules refuse an import up the layers, between dialects and out of platform, and find a circle', () => {
  assert.ok(allowed('src/cli/cli.ts', 'src/app/sync.ts'));
  assert.ok(allowed('src/app/sync.ts', 'src/core/apply.ts'));
  assert.ok(allowed('src/dialects/mysql/driver.ts', 'src/core/driver/driver.ts'));
  assert.ok(allowed('src/dialects/index.ts', 'src/dialects/mysql/description.ts'));
  assert.not.ok(allowed('src/core/apply.ts', 'src/app/sync.ts'));
  assert.not.ok(allowed('src/core/apply.ts', 'src/glance/revisions.ts'));
  assert.not.ok(allowed('src/platform/errors.ts', 'src/core/introspect/diff.ts'));
  assert.not.ok(allowed('src/dialects/mysql/driver.ts', 'src/dialects/index.ts'));
  assert.not.ok(allowed('src/dialects/mysql/driver.ts', 'src/dialects/sqlite/driver.ts'));
  assert.not.ok(allowed('src/dialects/mysql/driver.ts', 'src/core/apply.ts'));
  assert.not.ok(allowed('src/glance/adopt.ts', 'src/app/sync.ts'));
  const e = (from: string, to: string) => ({ from, to, typeOnly: false });
  assert.equal(findCycle([e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd')]), ['a', 'b', 'c', 'a']);
  assert.is(findCycle([e('a', 'b'), e('b', 'c'), e('a', 'c')]), null);
});

test('every source file is in a layer, and every relative import names a file', () => {
  assert.equal(
    FILES.filter((f) => layerOf(f) === null),
    [],
    'put it in src/{cli,app,core,glance,dialects/<name>,platform}',
  );
  assert.equal(UNRESOLVED, []);
});

test('a layer imports only the layers below it; a dialect folder neither the registry nor another dialect', () => {
  const broken = EDGES.filter((e) => !allowed(e.from, e.to) && !ALLOW.has(key(e))).map(
    (e) => `${key(e)}${e.typeOnly ? ' (type)' : ''}  [${layerOf(e.from)} -> ${layerOf(e.to)}]`,
  );
  assert.equal(broken, [], 'see ARCHITECTURE.md:\n' + broken.join('\n'));
});

test('no import circle, at run time or at type level', () => {
  const rest = EDGES.filter((e) => !ALLOW.has(key(e)));
  const cycle = findCycle(rest);
  assert.is(cycle, null, `an import circle: ${cycle?.join(' -> ')}`);
});

test('each entry of the import allowlist still breaks a rule (delete the fixed ones)', () => {
  const stale = ALLOWED_EDGES.filter((entry) => {
    const e = EDGES.find((x) => key(x) === entry);
    if (!e) return true; // the import is gone
    if (!allowed(e.from, e.to)) return false;
    return pathBetween(EDGES, e.to, e.from) === null; // allowed now, and closes no circle
  });
  assert.equal(stale, []);
  assert.is(new Set(ALLOWED_EDGES).size, ALLOWED_EDGES.length, 'an entry twice');
});

test("the engine (src/core) names none of the manifest's versions: Glance's rules reach it as hooks (ctx.rules) and manifest attributes", () => {
  const versions = [...readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8').matchAll(/^\s*- version: (\d+)\s*$/gm)].map(
    (m) => m[1],
  );
  assert.ok(versions.length > 0, 'the versions of glance-db.yaml');
  const literal = new RegExp(`(?<![\\w.$])(${versions.join('|')})(?![\\w.])`);
  const named = FILES.filter((f) => f.startsWith('src/core/')).flatMap((f) =>
    stripComments(readFileSync(join(ROOT, f), 'utf8'))
      .split('\n')
      .flatMap((line, i) => (literal.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.equal(
    named,
    [],
    'a version number in the engine: make it a manifest attribute or a hook of src/core/rules.ts',
  );
});

/** Glance named in a line: glance-db, the tool's own name (GlanceDbError, glance_db_script_guard, sql.js's glanceDbFile), is not. */
const NAMES_GLANCE = /glance(?![-_]?db)/i;

test('the rule for the word Glance: its name and its programs count, glance-db does not', () => {
  for (const named of [
    "Glance's bookkeeping",
    'glance-manage',
    'glance-api',
    'src/glance/rules.ts',
    'glanceManageExport',
  ])
    assert.ok(NAMES_GLANCE.test(named), named);
  for (const own of ['glance-db', 'GlanceDbError', 'glance_db_script_guard', 'glanceDbFile', 'GLANCE_DB_URL'])
    assert.not.ok(NAMES_GLANCE.test(own), own);
});

test('the engine and the dialects (src/core, src/dialects) name nothing of Glance, comments included', () => {
  const named = FILES.filter((f) => /^src\/(core|dialects)\//.test(f)).flatMap((f) =>
    readFileSync(join(ROOT, f), 'utf8')
      .split('\n')
      .flatMap((line, i) => (NAMES_GLANCE.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.equal(
    named,
    [],
    "Glance in the engine or a dialect: a generic fact in the description, a hook (src/core/rules.ts), or a name from src/core/driver/application.ts, and Glance's consequences in src/glance",
  );
});

test('process.* only in src/cli and the files listed with their reason', () => {
  const uses = FILES.filter((f) => /(?<![\w.$])process\s*\./.test(stripComments(readFileSync(join(ROOT, f), 'utf8'))));
  const outside = uses.filter((f) => layerOf(f) !== 'cli');
  assert.equal(
    outside.filter((f) => !(f in PROCESS_ALLOWED)),
    [],
    'read it in src/cli and pass the value down',
  );
  assert.equal(
    Object.keys(PROCESS_ALLOWED).filter((f) => !outside.includes(f)),
    [],
    'no longer reads process.: delete its entry',
  );
});

test.run();
