// The man page glance-db.1, in roff, from the same command metadata as
// docs/reference/commands.md (./reference.ts generates both; npm run docs).
// Nothing here runs in the CLI: it is not part of the bundle.
import { BUILTIN_COMMANDS } from './help.js';
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
  type FlagMeta,
  type ReferenceInput,
} from './reference-meta.js';

/** Text for a roff line: backslashes and hyphens escaped, a leading dot or quote made harmless, Markdown dropped. */
export function roff(s: string): string {
  const text = s
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-');
  return /^[.']/.test(text) ? `\\&${text}` : text;
}

/** A quoted macro argument. */
function arg(s: string): string {
  return `"${roff(s).replace(/"/g, '\\(dq')}"`;
}

export function manPage(input: ReferenceInput): string {
  const cmds = canonicalCommands(input);
  const bin = input.bin;
  const out: string[] = [...manHead(input)];
  for (const c of cmds) out.push(...manCommand(c, bin));
  for (const b of BUILTIN_COMMANDS) out.push(`.SS ${arg(b.usage)}`, roff(b.description));
  out.push('.SH "FLAGS ON EVERY COMMAND"', roff('Every command but help and completion takes these.'));
  for (const f of globalFlags(cmds)) out.push(...manFlag(f));
  out.push(
    '.SH ENVIRONMENT',
    '.TP',
    '.B GLANCE_DB_URL',
    roff('The database URL, when --url is not given (see --url).'),
    '.TP',
    '.B GLANCE_DB_DEBUG',
    roff('Set to 1: an internal error (exit 1) also prints its stack trace.'),
    '.SH "EXIT STATUS"',
    roff('Stable: a code is never renumbered. The name is that of the error.code field of --json.'),
  );
  for (const e of sortedCodes()) out.push('.TP', `.BR ${e.code} " (${roff(e.name)})"`, roff(e.when));
  out.push(
    '.SH FILES',
    '.TP',
    '.I glance-db.yaml',
    roff(
      'The manifest, in the working directory; without one, the manifest installed with glance-db is used (then the database must be named).',
    ),
    '.TP',
    '.I sql/checksums.lock',
    roff('The checksum of every released version file (glance-db lint).'),
    '.SH "SEE ALSO"',
    roff(
      'glance-manage(1). The documentation installed with the package: docs/README.md (every page), docs/reference/commands.md, ' +
        'docs/reference/exit-codes.md, docs/reference/json-output.md.',
    ),
  );
  return `${out.join('\n')}\n`;
}

/** The page's title, NAME, SYNOPSIS and DESCRIPTION, up to the COMMANDS heading. */
function manHead(input: ReferenceInput): string[] {
  const bin = input.bin;
  return [
    `.\\" ${GENERATED_NOTE} from the oclif command metadata and src/platform/exit-codes.ts: edit those, not this file.`,
    `.TH ${bin.toUpperCase()} 1 "" ${arg(`${bin} ${input.version}`)} "User Commands"`,
    // No hyphenation, ragged right: flags, URLs and paths stay whole and copyable.
    '.nh',
    '.ad l',
    '.SH NAME',
    `${roff(bin)} \\- ${roff(input.summary.replace(/^./, (c) => c.toLowerCase()).replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    `.B ${roff(bin)}`,
    '.I command',
    '.RI [ arguments ]',
    '.RI [ flags ]',
    '.br',
    `.B ${roff(bin)} db`,
    '.I command',
    '.RI [ arguments ]',
    '.RI [ flags ]',
    '.SH DESCRIPTION',
    roff(
      'glance-db does the job of glance-manage db sync for the metadata database of OpenStack Glance, as a declarative engine over ' +
        'plain SQL files: one numbered file per version and dialect (SQLite, PostgreSQL, MySQL/MariaDB), listed in glance-db.yaml; a version ' +
        'table records the checksum of every file applied; each version runs in one transaction wherever the database allows it; a downgrade ' +
        'is refused with the steps to restore a backup.',
    ),
    '.PP',
    roff(
      'Every command that glance-manage has also exists under db (glance-db db sync, glance-db db version, glance-db db load_metadefs). ' +
        'Flags come after the command. Errors are one paragraph on standard error with a stable exit code (EXIT STATUS); progress goes to ' +
        'standard error; with --json one JSON object is printed on standard output.',
    ),
    '.SH COMMANDS',
  ];
}

/** One command's entry: its usage, description, other names, arguments, own flags and examples. */
function manCommand(c: CommandMeta, bin: string): string[] {
  const out = [`.SS ${arg(usage(bin, c).slice(bin.length + 1))}`, roff(c.description ?? '')];
  const aliases = c.aliases.filter((a) => a !== c.id);
  if (aliases.length) out.push('.PP', `Also: ${aliases.map((a) => roff(`${bin} ${spaced(a)}`)).join(', ')}.`);
  for (const a of Object.values(c.args))
    out.push(
      '.TP',
      `.I ${roff(a.name.toUpperCase())}`,
      roff(`${a.description ?? ''}${a.required ? ' (required)' : ''}`),
    );
  for (const f of ownFlags(c)) out.push(...manFlag(f));
  const ex = examples(c, bin);
  if (ex.length) out.push('.PP', 'Examples:', '.PP', '.RS', '.nf', ...ex.map(roff), '.fi', '.RE');
  return out;
}

function manFlag(f: FlagMeta): string[] {
  const forms = flagForms(f)
    .map((x) => `\\fB${roff(x)}\\fR`)
    .join(', ');
  const notes = flagNotes(f);
  return ['.TP', forms, roff(`${f.description ?? ''}${notes.length ? ` (${notes.join('; ')})` : ''}`)];
}
