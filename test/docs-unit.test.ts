// The one exit-code table and the pages generated from it and from the oclif
// command metadata (src/cli/reference.ts, npm run docs): each generated page is
// regenerated here in memory and must equal what is committed; the table
// never renumbers a code; docs/reference/json-output.md agrees with
// schema/output.schema.json; README stays a front page.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES, ExitCode as TableExitCode, exitCodeRows } from '../src/platform/exit-codes.js';
import { ExitCode, GlanceDbError } from '../src/platform/errors.js';
import { applyGenerated, generateAll, loadReferenceInput, staleFiles } from '../src/cli/reference.js';
import {
  REGENERATE,
  canonicalCommands,
  globalFlags,
  ownFlags,
  spaced,
  type CommandMeta,
  type ReferenceInput,
} from '../src/cli/reference-meta.js';
import { ROOT, assertJsonOutput } from './helpers.js';

const read = (path: string) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : null);
const input: ReferenceInput = await loadReferenceInput(ROOT);

test('the exit-code table: every code and name once, each with a meaning and a when, in numeric order', () => {
  const codes = EXIT_CODES.map((e) => e.code);
  const names = EXIT_CODES.map((e) => e.name);
  assert.equal([...new Set(codes)], codes, 'a code twice');
  assert.equal([...new Set(names)], names, 'a name twice');
  assert.equal(
    [...codes].sort((a, b) => a - b),
    codes,
    'rows in numeric order',
  );
  for (const e of EXIT_CODES) {
    assert.ok(e.meaning.trim() && e.when.trim(), `${e.code} ${e.name}: meaning and when`);
    assert.ok(
      e.code >= 0 && e.code <= 125 && Number.isInteger(e.code),
      `${e.code}: a shell exit status, not a signal's`,
    );
    assert.match(e.name, /^[A-Z][A-Z_]*$/, 'the pattern schema/output.schema.json gives error.code');
  }
});

test('exit codes are never renumbered: the numbers scripts already rely on stay', () => {
  const published: Record<string, number> = {
    OK: 0,
    INTERNAL: 1,
    USAGE: 2,
    CONFIG: 3,
    CHECKSUM_MISMATCH: 4,
    NOT_UNDER_VERSION_CONTROL: 5,
    DOWNGRADE_REFUSED: 6,
    MIGRATION_FAILED: 7,
    LOCKED: 8,
    CONNECTION: 9,
    CONFLICT: 10,
    UNKNOWN_VERSION: 11,
    SCHEMA_DRIFT: 12,
    UPGRADE_PENDING: 13,
    PARTLY_APPLIED: 14,
    BACKUP_FAILED: 15,
    HISTORY_GAP: 16,
    NO_SPACE: 17,
    CONNECTION_LOST: 18,
    LOCK_LOST: 19,
    FILE_REFUSED: 20,
    SQLITE_UNUSABLE: 21,
    INTERRUPTED: 22,
    REPAIR_REFUSED: 24,
    METADEFS_INVALID: 28,
    DATA_FAILED: 29,
    PREFLIGHT: 32,
    OUTPUT_NOT_WRITABLE: 34,
    ROLLING_ORDER: 35,
    DB_CHECK_OTHER: 36,
  };
  for (const [name, code] of Object.entries(published))
    assert.is((TableExitCode as Record<string, number>)[name], code, `${name} is still ${code}`);
});

test("errors.ts, --help and the table are one: ExitCode is the table, every row is in the help rows, an error's exitCode is its row's", () => {
  assert.is(ExitCode, TableExitCode);
  assert.equal(
    Object.entries(ExitCode),
    EXIT_CODES.map((e) => [e.name, e.code]),
  );
  assert.equal(
    exitCodeRows(),
    EXIT_CODES.map((e) => [String(e.code), e.meaning]),
  );
  for (const e of EXIT_CODES) assert.is(new GlanceDbError(e.name, 'x').exitCode, e.code);
});

test('every generated page is up to date', () => {
  const stale = staleFiles(input, read).map((s) => s.path);
  assert.equal(
    stale,
    [],
    `stale generated file(s): ${stale.join(', ')}; run \`${REGENERATE}\` (builds, then node scripts/gen-docs.mjs) and commit what it writes`,
  );
});

test('the staleness check can fail: a changed flag, command or exit-code row makes its pages stale', () => {
  const sync = input.commands.find((c) => c.id === 'sync')!;
  const changed: CommandMeta = {
    ...sync,
    flags: {
      ...sync.flags,
      'new-flag': { name: 'new-flag', type: 'boolean', description: 'A flag the pages do not list yet.' },
    },
  };
  const withFlag: ReferenceInput = { ...input, commands: input.commands.map((c) => (c === sync ? changed : c)) };
  assert.equal(
    staleFiles(withFlag, read)
      .map((s) => s.path)
      .sort(),
    ['docs/reference/commands.md', 'man/glance-db.1'],
  );
  const fewer: ReferenceInput = { ...input, commands: input.commands.filter((c) => c.id !== 'purge') };
  assert.equal(
    staleFiles(fewer, read)
      .map((s) => s.path)
      .sort(),
    ['docs/reference/commands.md', 'man/glance-db.1'],
  );
  // A README whose generated part was edited by hand is stale; one without the markers is an error that says where they go.
  const readme = generateAll(input).find((g) => g.path === 'README.md')!;
  assert.equal(
    staleFiles(input, (p) => (p === 'README.md' ? read(p)!.replace('| 9 |', '| 99 |') : read(p))).map((s) => s.path),
    ['README.md'],
  );
  assert.throws(() => applyGenerated(readme, '# no markers\n'), /markers .* are missing/);
});

test('a version added to the manifest makes the version line stale until npm run docs writes its row', () => {
  const last = input.migrations[input.migrations.length - 1];
  const added = { ...last, version: last.version + 1, name: 'added_column', rolling: 'expand' as const };
  const withVersion: ReferenceInput = { ...input, migrations: [...input.migrations, added] };
  const stale = staleFiles(withVersion, read);
  assert.equal(
    stale.map((s) => s.path),
    ['docs/reference/version-line.md'],
  );
  // No Glance revision for it yet: its row says so, and the rows before it stay as they were.
  assert.match(stale[0].want, `| ${added.version} | added_column | - | - |\n`);
  assert.ok(stale[0].want.includes(read('docs/reference/version-line.md')!.split('<!-- version-line: end -->')[0]));
});

test('docs/reference/commands.md has every command, alias, argument and flag oclif knows', () => {
  const page = read('docs/reference/commands.md')!;
  const cmds = canonicalCommands(input);
  assert.ok(cmds.length >= 20, `only ${cmds.length} commands read: the metadata loader is broken`);
  for (const c of cmds) {
    const section = page.split(`\n## ${spaced(c.id)}\n`)[1]?.split('\n## ')[0];
    assert.ok(section, `a section for ${spaced(c.id)}`);
    for (const a of c.aliases.filter((x) => x !== c.id))
      assert.match(section, `\`glance-db ${spaced(a)}\``, `${c.id}: alias ${a}`);
    for (const a of Object.values(c.args))
      assert.match(section, `\`${a.name.toUpperCase()}\``, `${c.id}: argument ${a.name}`);
    for (const f of ownFlags(c)) {
      assert.match(section, new RegExp(`\`--${f.name}[=\`]`), `${c.id}: --${f.name}`);
      for (const al of f.aliases ?? []) assert.match(section, `--${al}`, `${c.id}: --${al}`);
      if (f.char) assert.match(section, `\`-${f.char}`, `${c.id}: -${f.char}`);
    }
  }
  const globals = page.split('\n## Flags on every command\n')[1].split('\n## ')[0];
  for (const f of globalFlags(cmds)) assert.match(globals, `\`--${f.name}`, `global --${f.name}`);
  for (const b of ['help', 'completion']) assert.match(page, `\n## ${b}\n`);
});

test("README's command table has a row for every command oclif knows", () => {
  const table = read('README.md')!.split('\n## Commands\n')[1].split('\n## ')[0];
  for (const c of canonicalCommands(input))
    assert.match(table, `\n| \`${spaced(c.id)}`, `README: a row for ${spaced(c.id)}`);
});

test('README: at most 250 lines, both quick-start commands as they were, and the exit-code table with every code', () => {
  const readme = read('README.md')!;
  assert.ok(readme.split('\n').length <= 250, `README.md has ${readme.split('\n').length} lines`);
  assert.match(readme, '```sh\nnpm ci && npx glance-db sync\n```');
  assert.match(readme, '```sh\nnpm test\n```');
  for (const e of EXIT_CODES) assert.match(readme, `\n| ${e.code} | `, `README lists exit code ${e.code}`);
  const page = read('docs/reference/exit-codes.md')!;
  for (const e of EXIT_CODES)
    assert.match(page, `\n| ${e.code} | \`${e.name}\` | `, `exit-codes.md lists ${e.code} ${e.name}`);
});

const schema = JSON.parse(read('schema/output.schema.json')!);
const jsonPage = read('docs/reference/json-output.md')!;

/** The JSON objects of the page's ```json blocks (several to a block, each spanning lines). */
function jsonExamples(page: string): unknown[] {
  const out: unknown[] = [];
  for (const block of page.matchAll(/```json\n([^]*?)```/g)) {
    let depth = 0;
    let start = -1;
    let inString = false;
    const s = block[1];
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{' && depth++ === 0) start = i;
      else if (ch === '}' && --depth === 0) out.push(JSON.parse(s.slice(start, i + 1)));
    }
  }
  return out;
}

test("docs/reference/json-output.md agrees with schema/output.schema.json: every example validates, check's states and the error names are the schema's and the table's", () => {
  const examples = jsonExamples(jsonPage);
  assert.ok(examples.length >= 10, `only ${examples.length} examples found: the reader is broken`);
  // The page marks text left out with ...; an elided checksum stands for a whole one.
  const filled = (e: unknown) => JSON.stringify(e).replace(/"sha256-lf:\.\.\."/g, `"sha256-lf:${'0'.repeat(64)}"`);
  for (const e of examples) assertJsonOutput(['x', '--json'], filled(e));
  // An example the schema refuses is found (the check above can fail).
  assert.throws(
    () => assertJsonOutput(['x', '--json'], JSON.stringify({ ...(examples[0] as object), ok: 'yes' })),
    /does not match/,
  );
  const states = JSON.stringify(schema).match(/"state":\{"enum":(\[[^\]]*\])/)![1];
  const section = jsonPage.split("## `check`'s state")[1].split('\n## ')[0];
  const listed = [...section.matchAll(/`([a-z-]+)`\s+\(/g)].map((m) => m[1]);
  assert.equal(listed.sort(), (JSON.parse(states) as string[]).sort(), "check's states on the page are the schema's");
  for (const e of EXIT_CODES.filter((x) => x.code !== 0)) assert.match(jsonPage, `\`${e.name}\` (${e.code})`);
});

test.run();
