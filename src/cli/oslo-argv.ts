// glance-manage's command line, rewritten into glance-db's own grammar before
// oclif sees it, so that a deployment tool's exact line works as written:
//
//   glance-manage --config-file /etc/glance/glance-api.conf \
//       --config-dir /etc/glance/glance.conf.d db_load_metadefs /etc/glance/metadefs
//   -> glance-db db load_metadefs /etc/glance/metadefs \
//       --glance-config /etc/glance/glance-api.conf --glance-config /etc/glance/glance.conf.d
//
// What is read where (the sources this follows):
// - glance/cmd/manage.py (2023.1 to master): the legacy parsers db_version,
//   db_upgrade [VERSION], db_version_control [VERSION], db_sync [VERSION],
//   db_expand, db_migrate, db_contract, db_check,
//   db_load_metadefs [PATH [MERGE [PREFER_NEW [OVERWRITE]]]],
//   db_unload_metadefs, db_export_metadefs [PATH]; and `db ACTION` with
//   `--version V` (sync, upgrade, version_control), --path, --merge,
//   --prefer_new, --overwrite, --age_in_days, --max_rows, and positional
//   action_args in the same places.
// - oslo_config/cfg.py: --config-file and --config-dir, repeatable, parsed in
//   the order given (a folder's *.conf sorted, at the folder's place); when only
//   one of the two kinds is given, the default files (or folders) of the other
//   kind are still read, and FIRST (_parse_config_files): they are put in front
//   here, as the concrete paths oslo.config would find.
// - oslo_log/_options.py: the logging switches (common_cli_opts,
//   logging_cli_opts, and the ones older releases had). --debug/-d is honoured
//   (GLANCE_DB_DEBUG: a stack trace with an error); the others are accepted and
//   ignored: glance-db writes its own output, never a log file.
// Everything glance-db itself spells the same way is left as typed.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { UsageError } from '../platform/errors.js';
import { defaultGlanceConfigDirs, defaultGlanceConfigFiles } from '../glance/config.js';
import { revisionTarget } from '../glance/revisions.js';

/** oslo.config's and oslo.log's options that take a value (argparse: `--opt VALUE` or `--opt=VALUE`). */
const OSLO_VALUE_FLAGS = new Set([
  'config-file',
  'config-dir',
  'log-config-append',
  'log-config',
  'log-date-format',
  'log-file',
  'logfile',
  'log-dir',
  'logdir',
  'syslog-log-facility',
]);

/** oslo.log's switches (and their --noX forms), current and past: accepted anywhere, never an error. */
const OSLO_SWITCHES = new Set([
  'debug',
  'verbose',
  'use-syslog',
  'use-journal',
  'use-json',
  'watch-log-file',
  'use-eventlog',
  'use-syslog-rfc-format',
]);

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
const LEGACY: Record<string, string> = {
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
};

/** Actions whose target is a revision (glance-manage: `--version V` or a positional V). */
const TARGETED = new Set(['sync', 'upgrade', 'version_control']);

export interface OsloRewrite {
  /** The command line in glance-db's grammar. */
  argv: string[];
  /** --debug/-d (the last of --debug/--nodebug) was given. */
  debug: boolean;
  /** The oslo options that were accepted and have no effect on glance-db, as typed (for --help or a notice). */
  ignored: string[];
  /** glance-manage's grammar was recognized (an underscore command, an oslo option, --version TARGET...). */
  rewritten: boolean;
}

/** A leading ~ as oslo.config's _fixpath (os.path.expanduser) reads it. */
function expandUser(path: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return (env.HOME || homedir()) + path.slice(1);
  return path;
}

const isHeads = (w: string) => w === 'heads' || w === 'head';

/**
 * Falsy-looking words for db_load_metadefs' MERGE/PREFER_NEW/OVERWRITE:
 * glance-manage passes the word on as a string, and Python takes any non-empty
 * string as true ("False" merges). glance-db will not guess which was meant.
 */
const FALSE_WORD = /^(false|no|n|f|off|0|none)$/i;

/**
 * Rewrites glance-manage's grammar (and oslo's global options, anywhere on the
 * line) into glance-db's. A line in glance-db's own grammar comes back as it
 * was. Throws a UsageError for an oslo option with its value missing.
 */
export function rewriteOsloArgv(input: string[], env: NodeJS.ProcessEnv = process.env): OsloRewrite {
  const rest: string[] = [];
  const config: string[] = [];
  let files = 0;
  let dirs = 0;
  let debug = false;
  const ignored: string[] = [];
  let rewritten = false;
  let i = 0;
  for (; i < input.length; i++) {
    const a = input[i];
    if (a === '--') break;
    if (GLANCE_DB_VALUE_FLAGS.has(a)) {
      rest.push(a);
      if (i + 1 < input.length) rest.push(input[++i]);
      continue;
    }
    if (a === '-d') {
      debug = true;
      rewritten = true;
      continue;
    }
    if (a === '-v') {
      ignored.push(a);
      rewritten = true;
      continue;
    }
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a.slice(2) : a.slice(2, eq)).replace(/_/g, '-');
    if (OSLO_VALUE_FLAGS.has(name)) {
      let value: string;
      if (eq >= 0) value = a.slice(eq + 1);
      else if (i + 1 < input.length) value = input[++i];
      else
        throw new UsageError(
          `--${name} needs a value.`,
          name.startsWith('config')
            ? `For example: --${name} /etc/glance/${name === 'config-file' ? 'glance-api.conf' : 'glance.conf.d'}.`
            : undefined,
        );
      rewritten = true;
      if (name === 'config-file' || name === 'config-dir') {
        if (!value.trim())
          throw new UsageError(
            `--${name} is empty.`,
            `Give a ${name === 'config-file' ? 'file' : 'folder'}, or leave --${name} out for Glance's default config files.`,
          );
        config.push(expandUser(value, env));
        if (name === 'config-file') files++;
        else dirs++;
      } else ignored.push(eq >= 0 ? a : `${a} ${value}`);
      continue;
    }
    const bare = name.startsWith('no') && OSLO_SWITCHES.has(name.slice(2)) ? name.slice(2) : name;
    if (OSLO_SWITCHES.has(bare) && (eq < 0 || /^(true|false|yes|no|1|0|on|off)$/i.test(a.slice(eq + 1)))) {
      rewritten = true;
      if (bare === 'debug') debug = name === 'debug' && (eq < 0 || /^(true|yes|1|on)$/i.test(a.slice(eq + 1)));
      else ignored.push(a);
      continue;
    }
    rest.push(a);
  }
  const tail = input.slice(i);

  // The command: the leading words of what is left.
  const out = commandWords(rest);
  if (out.rewritten) rewritten = true;
  if (config.length) {
    // oslo.config reads the default files when no --config-file was given and
    // the default folders when no --config-dir was: before the ones given.
    const defaults = [
      ...(files === 0 ? defaultGlanceConfigFiles(env) : []),
      ...(dirs === 0 ? defaultGlanceConfigDirs(env).filter((d) => existsSync(d)) : []),
    ];
    for (const c of [...defaults, ...config]) out.argv.push('--glance-config', c);
  }
  return { argv: [...out.argv, ...tail], debug, ignored, rewritten };
}

/** glance-manage's commands, made glance-db's; the flags among them stay where they are. */
function commandWords(argv: string[]): { argv: string[]; rewritten: boolean } {
  // Positional words (and where they are), skipping flag values.
  const words: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLANCE_DB_VALUE_FLAGS.has(a) || a === '--version') {
      i++;
      continue;
    }
    if (!a.startsWith('-') || a === '-') words.push(i);
  }
  if (!words.length) return { argv, rewritten: false };
  // `help db_sync`: the help of the command it is.
  if (argv[words[0]] === 'help' && words.length > 1 && LEGACY[argv[words[1]]]) {
    const out = [...argv];
    out.splice(words[1], 1, 'db', LEGACY[argv[words[1]]] === 'version_control' ? 'sync' : LEGACY[argv[words[1]]]);
    return { argv: out, rewritten: true };
  }
  const first = argv[words[0]];
  let action: string;
  let legacy = false;
  let args: number[];
  if (LEGACY[first]) {
    action = LEGACY[first];
    legacy = true;
    args = words.slice(1);
  } else if (first === 'db' && words.length > 1) {
    action = argv[words[1]];
    args = words.slice(2);
  } else if (first.startsWith('db:') && !first.slice(3).includes(':')) {
    action = first.slice(3);
    args = words.slice(1);
  } else return { argv, rewritten: false };

  const flags = argv.filter((_, i) => !words.includes(i));
  const positional = args.map((i) => argv[i]);

  // --version V (sync, upgrade, version_control): glance-manage's spelling of the target.
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
  const rewrittenByFlag = versionFlag !== undefined;

  const ret = (words: string[], extra: string[] = []) => ({ argv: [...words, ...extra, ...kept], rewritten: true });
  switch (action) {
    case 'sync':
    case 'upgrade':
    case 'version_control': {
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
        return ret(['db', 'sync', v, v], more);
      }
      const revision = target === undefined ? null : revisionTarget(target);
      const manageForm =
        legacy ||
        rewrittenByFlag ||
        (target !== undefined && (isHeads(target) || revision !== null)) ||
        (action === 'upgrade' && target === undefined);
      // glance-db's own `db sync`, `db sync 51 44` and `db upgrade 48` (a database it manages) keep their meaning.
      if (!manageForm) return { argv, rewritten: false };
      // An expand revision: alembic upgrades the expand branch alone to it, which is glance-db's expand.
      if (revision?.branch === 'expand') return ret(['db', 'expand', String(revision.version)], more);
      // glance-manage's upgrade is alembic upgrade: it builds an empty database and takes one over, as glance-db's sync does.
      // No target, or heads: the newest, which is sync with no VERSION.
      if (target === undefined || isHeads(target)) return ret(['db', 'sync'], more);
      return ret(['db', 'sync', revision ? String(revision.version) : target], more);
    }
    case 'load_metadefs': {
      if (!legacy) return { argv, rewritten: false };
      const [path, ...bools] = positional;
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
      return ret(
        ['db', 'load_metadefs', ...(path !== undefined && path !== '' ? [path] : []), ...bools.slice(3)],
        extra,
      );
    }
    case 'unload_metadefs':
      // glance-manage removes them without asking; its deployment scripts do not answer a question.
      if (!legacy && first !== 'db') return { argv, rewritten: false };
      return ret(
        ['db', 'unload_metadefs', ...positional],
        kept.includes('--yes') || kept.includes('-y') ? [] : ['--yes'],
      );
    default:
      if (!legacy) return { argv, rewritten: rewrittenByFlag };
      return ret(['db', action, ...positional]);
  }
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
