// Sizes of the sources (issue 29): every .ts file of src/ under 400 lines, and
// no function, method or arrow function over 80 lines (from the line its
// signature starts on to the line its body ends on). The functions are found
// on the syntax tree: TypeScript 7's compiler ships no JavaScript API, so the
// tree is the one prettier's TypeScript parser (typescript-estree, already a
// dev dependency for `npm run lint`) builds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parsers } from 'prettier/plugins/typescript';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');
const MAX_FILE_LINES = 399;
const MAX_FUNCTION_LINES = 80;

/** The node types of typescript-estree that have a body of statements or an expression run as a function. */
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
/** The nodes that name a function they hold as their value (a class method, an object's method or property, a class field). */
const METHOD_TYPES = new Set(['MethodDefinition', 'Property', 'PropertyDefinition']);

interface Node {
  type: string;
  loc: { start: { line: number }; end: { line: number } };
  body?: unknown;
  id?: { name?: string } | null;
  key?: { name?: string; value?: unknown } | null;
  value?: unknown;
  [key: string]: unknown;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Lines as `wc -l` counts them: the newlines (a last line without one counts too). */
function lineCount(text: string): number {
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') || text === '' ? newlines : newlines + 1;
}

const isNode = (x: unknown): x is Node =>
  typeof x === 'object' && x !== null && typeof (x as { type?: unknown }).type === 'string';

/** A node's children (the syntax tree's own links, not its positions or its parent). */
function children(node: Node): Node[] {
  return Object.entries(node)
    .filter(([k]) => k !== 'loc' && k !== 'range' && k !== 'parent')
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .filter(isNode);
}

/** The name a node gives the function it holds: a variable's, a method's or a property's. */
function nameOf(node: Node): string | null {
  if (node.type === 'VariableDeclarator' && isNode(node.id) && typeof node.id.name === 'string') return node.id.name;
  if (METHOD_TYPES.has(node.type) && node.key) return String(node.key.name ?? node.key.value ?? '(computed)');
  return null;
}

/** Every function-like node of a source: its name, the line it starts on and its span in lines. */
async function functionSpans(text: string): Promise<{ name: string; line: number; lines: number }[]> {
  const ast = (await parsers.typescript.parse(text, {} as never)) as Node;
  const out: { name: string; line: number; lines: number }[] = [];
  // start: a method's (or property's) own first line, as its FunctionExpression starts at the parameters.
  const visit = (node: Node, name: string, start: number | null) => {
    if (FUNCTION_TYPES.has(node.type) && node.body) {
      const first = start ?? node.loc.start.line;
      out.push({ name: node.id?.name ?? name, line: first, lines: node.loc.end.line - first + 1 });
    }
    const inner = nameOf(node) ?? (FUNCTION_TYPES.has(node.type) ? '(anonymous)' : name);
    for (const c of children(node))
      visit(c, inner, METHOD_TYPES.has(node.type) && c === node.value ? node.loc.start.line : null);
  };
  visit(ast, '(anonymous)', null);
  return out;
}

test('the scanner measures a function from its first line to its last, methods and arrows included', async () => {
  const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const source = [
    `export function long(a: number): number {\n${body(81)}\n}`,
    `function fits() {\n${body(80)}\n}`,
    `class C {\n  method(): void {\n${body(81)}\n  }\n}`,
    `const arrow = () => {\n${body(82)}\n};`,
    `const o = {\n  prop: () => {\n${body(80)}\n  },\n  short() {\n    return [1].map((x) => {\n${body(81)}\n    });\n  },\n};`,
    `class D {\n  field = async (\n    a: number,\n  ) => {\n${body(79)}\n  };\n}`,
  ].join('\n');
  const spans = await functionSpans(source);
  const by = Object.fromEntries(spans.map((s) => [s.name, s.lines]));
  assert.equal(by, { long: 81, fits: 80, method: 81, arrow: 82, prop: 80, short: 83, '(anonymous)': 81, field: 81 });
  assert.equal(
    spans.filter((s) => s.lines > MAX_FUNCTION_LINES).map((s) => s.name),
    ['long', 'method', 'arrow', 'short', '(anonymous)', 'field'],
  );
  assert.is(lineCount('a\nb\n'), 2);
  assert.is(lineCount('a\nb'), 2);
});

test(`every file of src/ is under ${MAX_FILE_LINES + 1} lines`, () => {
  const files = walk(SRC);
  assert.ok(files.length > 100, 'the sources of src/');
  const over = files
    .map((f) => ({ file: relative(ROOT, f), lines: lineCount(readFileSync(f, 'utf8')) }))
    .filter((x) => x.lines > MAX_FILE_LINES)
    .map((x) => `${x.file}: ${x.lines} lines`);
  assert.equal(over, [], over.join('\n'));
});

test(`no function of src/ is over ${MAX_FUNCTION_LINES} lines`, async () => {
  const over: string[] = [];
  let count = 0;
  for (const f of walk(SRC)) {
    const spans = await functionSpans(readFileSync(f, 'utf8'));
    count += spans.length;
    for (const s of spans)
      if (s.lines > MAX_FUNCTION_LINES) over.push(`${relative(ROOT, f)}:${s.line} ${s.name}: ${s.lines} lines`);
  }
  assert.ok(count > 500, `the functions of src/ (${count} found)`);
  assert.equal(over, [], over.join('\n'));
});

test.run();
