// Mutation fuzzing, seeded and bounded: random edits of the shipped
// manifest and of SQL files must only ever produce handled errors
// (GlanceDbError with a documented exit code), never a crash. In-process for
// speed; a few mutated inputs also go through the built CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveContext } from '../src/cli/context.js';
import { sync } from '../src/app/sync.js';
import { GlanceDbError } from '../src/platform/errors.js';
import { loadManifest } from '../src/core/manifest/load.js';
import { cli, makeProject, removeProject, ROOT } from './helpers.js';

const SEED = Number(process.env.GLANCE_DB_FUZZ_SEED ?? 20261125);
const ITERATIONS = Number(process.env.GLANCE_DB_FUZZ_ITERATIONS ?? 300);

function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const JUNK = [
  '',
  '-',
  ':',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '&a',
  '*a',
  '!!int',
  '\t',
  '\u0000',
  '#',
  '|',
  '>',
  '0',
  '-1',
  '1e9',
  'null',
  'true',
  '~',
  ';',
  '$$',
  '/*',
  '--',
  'BEGIN',
  'END',
  '\\',
];

/** One random edit: delete, duplicate or swap lines, splice junk, truncate, or flip a number. */
export function mutate(text: string, random: () => number): string {
  const lines = text.split('\n');
  const pick = (n: number) => Math.floor(random() * n);
  const i = pick(lines.length);
  switch (pick(7)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[pick(lines.length)]);
      break;
    case 2: {
      const j = pick(lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
      break;
    }
    case 3: {
      const at = pick(lines[i].length + 1);
      lines[i] = lines[i].slice(0, at) + JUNK[pick(JUNK.length)] + lines[i].slice(at);
      break;
    }
    case 4:
      return text.slice(0, pick(text.length));
    case 5:
      lines[i] = lines[i].replace(/\d+/, String(pick(100) - 10));
      break;
    default:
      lines[i] = lines[i].replace(/:\s.*$/, `: ${JUNK[pick(JUNK.length)]}`);
  }
  return lines.join('\n');
}

function handled(err: unknown, what: string): void {
  if (!(err instanceof GlanceDbError))
    throw new Error(`${what}: unhandled ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  assert.ok(err.exitCode >= 2, `${what}: internal error ${err.message}`);
}

test(`${ITERATIONS} mutated manifests load or fail with a handled error (seed ${SEED})`, () => {
  const random = prng(SEED);
  const dir = makeProject();
  const original = readFileSync(join(dir, 'glance-db.yaml'), 'utf8');
  try {
    for (let n = 0; n < ITERATIONS; n++) {
      let text = original;
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) text = mutate(text, random);
      writeFileSync(join(dir, 'glance-db.yaml'), text);
      try {
        loadManifest(join(dir, 'glance-db.yaml'));
      } catch (err) {
        handled(err, `manifest mutation ${n}`);
      }
    }
  } finally {
    removeProject(dir);
  }
});

test(`mutated SQL files sync or fail with a handled error (seed ${SEED})`, async () => {
  const random = prng(SEED + 1);
  const files = [
    '043_add_image_created_updated_idx',
    '045_add_visibility',
    '049_location_backend_to_store',
    '051_add_cache_tables',
  ];
  for (let n = 0; n < Math.ceil(ITERATIONS / 6); n++) {
    const name = files[n % files.length];
    const dir = makeProject();
    try {
      const file = join(dir, `sql/sqlite/${name}.sql`);
      writeFileSync(file, mutate(mutate(readFileSync(file, 'utf8'), random), random));
      const ctx = resolveContext({
        config: join(dir, 'glance-db.yaml'),
        lockWait: 5,
        connectTimeout: 5,
        statementTimeout: 0,
        lockTimeout: 0,
      });
      try {
        await sync(ctx, { requireVersionControl: false });
      } catch (err) {
        handled(err, `SQL mutation ${n} of ${name}`);
      }
    } finally {
      removeProject(dir);
    }
  }
});

test('a few mutated manifests through the built CLI: exit code >= 2, no stack trace', () => {
  const random = prng(SEED + 2);
  const original = readFileSync(join(ROOT, 'glance-db.yaml'), 'utf8');
  for (let n = 0; n < 8; n++) {
    const dir = makeProject({ 'glance-db.yaml': mutate(mutate(original, random), random) });
    try {
      const r = cli(['sync', '43'], { cwd: dir });
      assert.ok(r.code === 0 || r.code >= 2, `exit ${r.code}: ${r.stderr}`);
      assert.not.match(r.stderr, /\n\s+at |unexpected:/);
    } finally {
      removeProject(dir);
    }
  }
});

test.run();
