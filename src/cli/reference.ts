// The generated reference: docs/reference/commands.md and the man page
// glance-db.1 from the oclif command metadata (the same source as --help),
// and README.md's exit-code section, docs/reference/exit-codes.md and the
// error names of docs/reference/json-output.md from the exit-code table
// (src/platform/exit-codes.ts), and docs/reference/version-line.md's table of
// versions from the manifest and src/glance/revisions.ts. scripts/gen-docs.mjs (npm run docs) writes them;
// test/docs-unit regenerates them in memory and fails when a file is stale.
// Nothing here runs in the CLI: it is not part of the bundle.
import { join } from 'node:path';
import { BUILTIN_COMMANDS } from './help.js';
import { manPage } from './reference-man.js';
import { VERSION_LINE, versionLineTable } from './reference-versions.js';
import { loadManifest } from '../core/manifest/load.js';
import {
  canonicalCommands,
  examples,
  flagForms,
  flagNotes,
  GENERATED_NOTE,
  globalFlags,
  ownFlags,
  sortedCodes,
  spaced,
  usage,
  type CommandMeta,
  type Generated,
  type ReferenceInput,
} from './reference-meta.js';

// ---------------------------------------------------------------- Markdown

/** Text for Markdown prose: characters that would start emphasis, HTML or a table cell are escaped. */
function md(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/([*_<>|[\]`])/g, '\\$1');
}

/** `[text](guide/x.md)` links of the exit-code table (relative to docs/) pointed from `fromDir` (relative to the repository). */
function relink(text: string, fromDir: string): string {
  const depth = fromDir === '' ? 0 : fromDir.split('/').length;
  const prefix = fromDir === '' ? 'docs/' : fromDir === 'docs' ? '' : '../'.repeat(depth - 1);
  return text.replace(/\]\(([^)#:]+)(#[^)]*)?\)/g, (_m, path: string, anchor = '') => `](${prefix}${path}${anchor})`);
}

export function commandsPage(input: ReferenceInput): string {
  const cmds = canonicalCommands(input);
  const bin = input.bin;
  const out: string[] = [
    '# Commands',
    '',
    '**For** whoever runs glance-db or writes it into a script or a deployment tool. **Answers:** every command, its arguments, its flags',
    'and their defaults, and an example or two: the same text as `glance-db COMMAND --help`.',
    '',
    `<!-- ${GENERATED_NOTE} from the oclif command metadata (src/cli/commands/, src/cli/base-command.ts): edit those, not this page. -->`,
    '',
    `Usage: \`${bin} COMMAND [ARGUMENTS] [FLAGS]\`; flags come after the command. Every command but \`help\` and \`completion\` takes the`,
    '[flags on every command](#flags-on-every-command). The exit codes: [Exit codes](exit-codes.md). The same text as a man page:',
    `\`man ${bin}\` once glance-db is installed with npm.`,
    '',
    cmds.map((c) => `[${spaced(c.id)}](#${slug(spaced(c.id))})`).join(' · ') +
      ' · ' +
      BUILTIN_COMMANDS.map((b) => `[${b.name}](#${slug(b.name)})`).join(' · '),
    '',
    '## Flags on every command',
    '',
    '| flag | what it does |',
    '|---|---|',
    ...globalFlags(cmds).map(
      (f) =>
        `| ${flagForms(f)
          .map((x) => `\`${x}\``)
          .join(', ')} | ${md(f.description ?? '')}${flagNotes(f).length ? ` (${flagNotes(f).join('; ')})` : ''} |`,
    ),
    '',
  ];
  for (const c of cmds) {
    out.push(`## ${spaced(c.id)}`, '', `\`${usage(bin, c)}\``, '');
    const aliases = c.aliases.filter((a) => a !== c.id);
    if (aliases.length) out.push(`Also: ${aliases.map((a) => `\`${bin} ${spaced(a)}\``).join(', ')}.`, '');
    out.push(md(c.description ?? ''), '');
    const args = Object.values(c.args);
    if (args.length) {
      out.push('Arguments:', '');
      for (const a of args)
        out.push(`- \`${a.name.toUpperCase()}\`${a.required ? ' (required)' : ''}: ${md(a.description ?? '')}`);
      out.push('');
    }
    const flags = ownFlags(c);
    if (flags.length) {
      out.push('Flags:', '');
      for (const f of flags) {
        const notes = flagNotes(f);
        out.push(
          `- ${flagForms(f)
            .map((x) => `\`${x}\``)
            .join(', ')}: ${md(f.description ?? '')}${notes.length ? ` (${notes.join('; ')})` : ''}`,
        );
      }
      out.push('');
    }
    const ex = examples(c, bin);
    if (ex.length) out.push('Examples:', '', '```text', ...ex, '```', '');
  }
  for (const b of BUILTIN_COMMANDS) {
    out.push(`## ${b.name}`, '', `\`${bin} ${b.usage}\``, '', md(b.description), '');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

export function exitCodesPage(): string {
  const out = [
    '# Exit codes',
    '',
    '**For** whoever scripts glance-db or reads its result in a deployment tool or a monitoring check. **Answers:** what each exit',
    "code means and when glance-db ends with it; the names are those of `--json`'s `error.code`.",
    '',
    `<!-- ${GENERATED_NOTE} from the exit-code table, src/platform/exit-codes.ts: edit that, not this page. -->`,
    '',
    'Stable; scripts may rely on them: a code is never renumbered, only added. Errors are one paragraph on stderr',
    '(`error: ...`, then `hint: ...`) with one of these codes, or with `--json` an `error` object on stdout',
    "([JSON output](json-output.md#errors)). `glance-db db check` answers with glance-manage's own codes (0, 3, 4, 5) where they",
    'fit, and 36 where they do not ([db check](../guide/rolling-upgrade.md#glance-db-db-check)).',
    '',
    '| code | name | when |',
    '|---|---|---|',
    ...sortedCodes().map(
      (e) => `| ${e.code} | \`${e.name}\` | ${relink(e.when, 'docs/reference').replace(/\|/g, '\\|')} |`,
    ),
  ];
  return `${out.join('\n')}\n`;
}

export const README_EXIT_CODES = { begin: '<!-- exit-codes: begin -->', end: '<!-- exit-codes: end -->' };

/** README.md's exit-code table, between its markers: the short meanings, with the page that has the rest. */
export function readmeExitCodes(): string {
  return [
    README_EXIT_CODES.begin,
    `<!-- ${GENERATED_NOTE} from src/platform/exit-codes.ts. -->`,
    '',
    '| code | name | meaning |',
    '|---|---|---|',
    ...sortedCodes().map((e) => `| ${e.code} | \`${e.name}\` | ${md(e.meaning)} |`),
    '',
    'When each one happens, in full: [Exit codes](docs/reference/exit-codes.md).',
    README_EXIT_CODES.end,
  ].join('\n');
}

export const JSON_ERROR_NAMES = { begin: '<!-- error-names: begin -->', end: '<!-- error-names: end -->' };

/** docs/reference/json-output.md's list of error.code names, between its markers. */
export function jsonErrorNames(): string {
  const names = sortedCodes()
    .filter((e) => e.code !== 0)
    .map((e) => `\`${e.name}\` (${e.code})`);
  return [
    JSON_ERROR_NAMES.begin,
    `<!-- ${GENERATED_NOTE} from src/platform/exit-codes.ts. -->`,
    `The names: ${names.join(', ')}.`,
    JSON_ERROR_NAMES.end,
  ].join('\n');
}

/** GitHub's heading anchor, as test/readme.test.ts computes it. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

// ---------------------------------------------------------------- all of it

export const MAN_PAGE = 'man/glance-db.1';

/** Every generated file (or marked part of one), as it must be in the repository. */
export function generateAll(input: ReferenceInput): Generated[] {
  return [
    { path: 'docs/reference/commands.md', text: commandsPage(input) },
    { path: 'docs/reference/exit-codes.md', text: exitCodesPage() },
    { path: MAN_PAGE, text: manPage(input) },
    { path: 'README.md', text: readmeExitCodes(), markers: README_EXIT_CODES },
    { path: 'docs/reference/json-output.md', text: jsonErrorNames(), markers: JSON_ERROR_NAMES },
    { path: 'docs/reference/version-line.md', text: versionLineTable(input.migrations), markers: VERSION_LINE },
  ];
}

/** The file's text with the generated part put in: the whole file, or what stands between the markers (which must be there). */
export function applyGenerated(g: Generated, current: string | null): string {
  if (!g.markers) return g.text;
  const from = current?.indexOf(g.markers.begin) ?? -1;
  const to = current?.indexOf(g.markers.end) ?? -1;
  if (current === null || from < 0 || to < from)
    throw new Error(
      `${g.path}: the markers ${g.markers.begin} and ${g.markers.end} are missing; put them where the generated part goes.`,
    );
  return current.slice(0, from) + g.text + current.slice(to + g.markers.end.length);
}

/** The generator's input, read the way the CLI reads it: oclif's Config of the package at `root` (its package.json and bundle). */
export async function loadReferenceInput(root: string): Promise<ReferenceInput> {
  const { Config } = await import('@oclif/core');
  const { COMMANDS } = await import('./commands.js');
  const config = await Config.load(root);
  return {
    bin: config.bin,
    version: config.version,
    summary: config.pjson.description ?? '',
    commands: config.commands as unknown as CommandMeta[],
    order: Object.keys(COMMANDS),
    migrations: loadManifest(join(root, 'glance-db.yaml')).migrations,
  };
}

/** Each generated file whose text in the repository (read(path), null when missing) differs from what the generator makes now. */
export function staleFiles(
  input: ReferenceInput,
  read: (path: string) => string | null,
): { path: string; want: string }[] {
  const stale: { path: string; want: string }[] = [];
  for (const g of generateAll(input)) {
    const current = read(g.path);
    const want = applyGenerated(g, current);
    if (current !== want) stale.push({ path: g.path, want });
  }
  return stale;
}
