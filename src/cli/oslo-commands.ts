// glance-manage's commands made glance-db's (src/cli/oslo-argv.ts takes
// oslo's options out of the line first): the underscore commands
// (db_sync...), `db ACTION` and `db:ACTION` with glance-manage's --version V
// target, Alembic revision names, and db_load_metadefs' positional words.
// Each action is rewritten by its entry in ACTIONS; the flags among the
// words stay where they are.
import { UsageError } from '../platform/errors.js';
import { revisionTarget } from '../glance/revisions.js';

/** glance-db's own global flags that take a value: the word after them is a value, never an oslo option. */
export const GLANCE_DB_VALUE_FLAGS = new Set([
  '--url',
  '--config',
  '-c',
  '--glance-config',
  '--lock-wait',
  '--connect-timeout',
  '--statement-timeout',
  '--lock-timeout',
  '--io-timeout',
  '--backup-dir',
  '--release',
  '--path',
  '--output',
  '-o',
  '--dialect',
  '--from',
  '--age-in-days',
  '--age_in_days',
  '--max-rows',
  '--max_rows',
  '--base',
  '--supersede',
  '--accept-checksum',
  '--batch-size',
  '--table-limit',
  '--format',
]);

/** glance-manage's underscore commands and the `db ACTION` they are. */
const LEGACY = new Map<string, string>(
  Object.entries({
    db_version: 'version',
    db_upgrade: 'upgrade',
    db_version_control: 'version_control',
    db_sync: 'sync',
    db_expand: 'expand',
    db_migrate: 'migrate',
    db_contract: 'contract',
    db_check: 'check',
    db_load_metadefs: 'load_metadefs',
    db_unload_metadefs: 'unload_metadefs',
    db_export_metadefs: 'export_metadefs',
  }),
);

/** Actions whose target is a revision (glance-manage: `--version V` or a positional V). */
const TARGETED = new Set(['sync', 'upgrade', 'version_control']);

const isHeads = (w: string) => w === 'heads' || w === 'head';

/**
 * Falsy-looking words for db_load_metadefs' MERGE/PREFER_NEW/OVERWRITE:
 * glance-manage passes the word on as a string, and Python takes any non-empty
 * string as true ("False" merges). glance-db will not guess which was meant.
 */
const FALSE_WORD = /^(false|no|n|f|off|0|none)$/i;

/** A command line's command, once its positional words are known. */
interface CommandLine {
  /** The whole line (what is left after the oslo options). */
  argv: string[];
  /** Its first positional word (`db_sync`, `db`, `db:sync`). */
  first: string;
  /** The action: `sync`, `load_metadefs`... */
  action: string;
  /** Named by an underscore command (db_sync). */
  legacy: boolean;
  /** The positional words after the action. */
  positional: string[];
  /** The target given as --version V (sync, upgrade, version_control). */
  versionFlag: string | undefined;
  /** The flags, --version V taken out. */
  kept: string[];
}

type Rewritten = { argv: string[]; rewritten: boolean };

/** glance-manage's commands, made glance-db's; the flags among them stay where they are. */
export function commandWords(argv: string[]): Rewritten {
  const words = positionalWords(argv);
  if (!words.length) return { argv, rewritten: false };
  // `help db_sync`: the help of the command it is.
  const helped = argv[words[0]] === 'help' && words.length > 1 ? LEGACY.get(argv[words[1]]) : undefined;
  if (helped) {
    const out = [...argv];
    out.splice(words[1], 1, 'db', helped === 'version_control' ? 'sync' : helped);
    return { argv: out, rewritten: true };
  }
  const named = actionOf(argv, words);
  if (!named) return { argv, rewritten: false };
  const flags = argv.filter((_, i) => !words.includes(i));
  const line: CommandLine = {
    argv,
    first: argv[words[0]],
    ...named,
    positional: named.args.map((i) => argv[i]),
    ...takeVersionFlag(named.action, flags),
  };
  return (ACTIONS.get(line.action) ?? otherAction)(line);
}

/** Where the positional words are, skipping flag values. */
function positionalWords(argv: string[]): number[] {
  const words: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLANCE_DB_VALUE_FLAGS.has(a) || a === '--version') {
      i++;
      continue;
    }
    if (!a.startsWith('-') || a === '-') words.push(i);
  }
  return words;
}

/** The action the words name (`db_sync`, `db sync`, `db:sync`) and where its arguments are; null for any other command. */
function actionOf(argv: string[], words: number[]): { action: string; legacy: boolean; args: number[] } | null {
  const first = argv[words[0]];
  const legacy = LEGACY.get(first);
  if (legacy) return { action: legacy, legacy: true, args: words.slice(1) };
  if (first === 'db' && words.length > 1) return { action: argv[words[1]], legacy: false, args: words.slice(2) };
  if (first.startsWith('db:') && !first.slice(3).includes(':'))
    return { action: first.slice(3), legacy: false, args: words.slice(1) };
  return null;
}

/** --version V (sync, upgrade, version_control): glance-manage's spelling of the target, taken out of the flags. */
function takeVersionFlag(action: string, flags: string[]): { versionFlag: string | undefined; kept: string[] } {
  let versionFlag: string | undefined;
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (TARGETED.has(action) && (f === '--version' || f.startsWith('--version='))) {
      const v = f === '--version' ? flags[++i] : f.slice('--version='.length);
      if (v === undefined || !v.trim())
        throw new UsageError(
          '--version needs a value: the revision to go to (a version number, a Glance release, or an Alembic revision such as heads).',
        );
      if (versionFlag !== undefined && versionFlag !== v)
        throw new UsageError(`Two targets given with --version: ${versionFlag} and ${v}.`, 'Give the target once.');
      versionFlag = v;
      continue;
    }
    kept.push(f);
  }
  return { versionFlag, kept };
}

/** The rewritten line: glance-db's words, then what they add, then the flags as typed. */
const rewrite = (c: CommandLine, words: string[], extra: string[] = []): Rewritten => ({
  argv: [...words, ...extra, ...c.kept],
  rewritten: true,
});

/** How each action is rewritten (any other: otherAction). */
const ACTIONS = new Map<string, (c: CommandLine) => Rewritten>([
  ['sync', targeted],
  ['upgrade', targeted],
  ['version_control', targeted],
  ['load_metadefs', loadMetadefs],
  ['unload_metadefs', unloadMetadefs],
]);

/** sync, upgrade, version_control: a target as a word or --version V, a version, release or Alembic revision. */
function targeted(c: CommandLine): Rewritten {
  const { action, positional, versionFlag } = c;
  if (versionFlag !== undefined && positional.length) {
    throw new UsageError(
      `Two targets given: ${positional[0]} and --version ${versionFlag}.`,
      'Give the target once, as --version or as a word after the command.',
    );
  }
  const target = versionFlag ?? positional[0];
  const more = versionFlag !== undefined ? positional : positional.slice(1);
  if (action === 'version_control') {
    // alembic stamp: record the database as at the revision (default: liberty), running nothing.
    const v = targetNumber(target ?? 'liberty', 'version_control');
    return rewrite(c, ['db', 'sync', v, v], more);
  }
  const revision = target === undefined ? null : revisionTarget(target);
  const manageForm =
    c.legacy ||
    versionFlag !== undefined ||
    (target !== undefined && (isHeads(target) || revision !== null)) ||
    (action === 'upgrade' && target === undefined);
  // glance-db's own `db sync`, `db sync 51 44` and `db upgrade 48` (a database it manages) keep their meaning.
  if (!manageForm) return { argv: c.argv, rewritten: false };
  // An expand revision: alembic upgrades the expand branch alone to it, which is glance-db's expand.
  if (revision?.branch === 'expand') return rewrite(c, ['db', 'expand', String(revision.version)], more);
  // glance-manage's upgrade is alembic upgrade: it builds an empty database and takes one over, as glance-db's sync does.
  // No target, or heads: the newest, which is sync with no VERSION.
  if (target === undefined || isHeads(target)) return rewrite(c, ['db', 'sync'], more);
  return rewrite(c, ['db', 'sync', revision ? String(revision.version) : target], more);
}

/** db_load_metadefs PATH MERGE PREFER_NEW OVERWRITE: each word given makes its flag (a no-looking word is refused). */
function loadMetadefs(c: CommandLine): Rewritten {
  if (!c.legacy) return { argv: c.argv, rewritten: false };
  const [path, ...bools] = c.positional;
  const names = ['--merge', '--prefer-new', '--overwrite'];
  const extra: string[] = [];
  bools.slice(0, 3).forEach((w, n) => {
    if (FALSE_WORD.test(w)) {
      throw new UsageError(
        `db_load_metadefs takes MERGE, PREFER_NEW and OVERWRITE as words, and glance-manage counts any word as yes (Python's truth of a non-empty string), so "${w}" would turn ${names[n]} on.`,
        `Leave the word out for no, or write it as glance-db's flag: glance-db db load_metadefs ${path ?? 'PATH'} ${names.slice(0, n).join(' ')}`.trimEnd() +
          '.',
      );
    }
    if (w !== '') extra.push(names[n]);
  });
  return rewrite(
    c,
    ['db', 'load_metadefs', ...(path !== undefined && path !== '' ? [path] : []), ...bools.slice(3)],
    extra,
  );
}

/** unload_metadefs: glance-manage removes them without asking; its deployment scripts do not answer a question. */
function unloadMetadefs(c: CommandLine): Rewritten {
  if (!c.legacy && c.first !== 'db') return { argv: c.argv, rewritten: false };
  return rewrite(
    c,
    ['db', 'unload_metadefs', ...c.positional],
    c.kept.includes('--yes') || c.kept.includes('-y') ? [] : ['--yes'],
  );
}

/** Any other action: an underscore command becomes `db ACTION`; glance-db's own spelling stays. */
function otherAction(c: CommandLine): Rewritten {
  if (!c.legacy) return { argv: c.argv, rewritten: c.versionFlag !== undefined };
  return rewrite(c, ['db', c.action, ...c.positional]);
}

/** A version_control target as glance-db's version number (text, for argv). */
function targetNumber(target: string, action: string): string {
  if (isHeads(target))
    throw new UsageError(
      `${action} records a database as being at a version, and "${target}" names none; give the version or revision it is at.`,
    );
  const r = revisionTarget(target);
  if (r?.branch === 'expand') {
    throw new UsageError(
      `${action} ${target}: an expand revision alone records half a rolling upgrade, which glance-db does not record by hand.`,
      'Give the contract revision the database is at (or its version number).',
    );
  }
  return r ? String(r.version) : target;
}
