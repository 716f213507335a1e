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
//
// Here: oslo's options, taken out of the line wherever they are; the
// command words that are left are rewritten by src/cli/oslo-commands.ts.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { UsageError } from '../platform/errors.js';
import { defaultGlanceConfigDirs, defaultGlanceConfigFiles } from '../glance/config.js';
import { commandWords, GLANCE_DB_VALUE_FLAGS } from './oslo-commands.js';

export { GLANCE_DB_VALUE_FLAGS };

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

/**
 * Rewrites glance-manage's grammar (and oslo's global options, anywhere on the
 * line) into glance-db's. A line in glance-db's own grammar comes back as it
 * was. Throws a UsageError for an oslo option with its value missing.
 */
export function rewriteOsloArgv(input: string[], env: NodeJS.ProcessEnv = process.env): OsloRewrite {
  const seen = osloOptions(input, env);
  // The command: the leading words of what is left.
  const out = commandWords(seen.rest);
  if (seen.config.length) {
    // oslo.config reads the default files when no --config-file was given and
    // the default folders when no --config-dir was: before the ones given.
    const defaults = [
      ...(seen.files === 0 ? defaultGlanceConfigFiles(env) : []),
      ...(seen.dirs === 0 ? defaultGlanceConfigDirs(env).filter((d) => existsSync(d)) : []),
    ];
    for (const c of [...defaults, ...seen.config]) out.argv.push('--glance-config', c);
  }
  return {
    argv: [...out.argv, ...seen.tail],
    debug: seen.debug,
    ignored: seen.ignored,
    rewritten: seen.rewritten || out.rewritten,
  };
}

/** oslo.config's and oslo.log's options taken out of a command line (up to `--`), and what is left of it. */
interface OsloOptions {
  /** The words that are not oslo options, in order. */
  rest: string[];
  /** `--` and what follows it, as typed. */
  tail: string[];
  /** --config-file and --config-dir values, in the order given; how many of each. */
  config: string[];
  files: number;
  dirs: number;
  debug: boolean;
  ignored: string[];
  rewritten: boolean;
}

function osloOptions(input: string[], env: NodeJS.ProcessEnv): OsloOptions {
  const o: OsloOptions = {
    rest: [],
    tail: [],
    config: [],
    files: 0,
    dirs: 0,
    debug: false,
    ignored: [],
    rewritten: false,
  };
  let i = 0;
  for (; i < input.length; i++) {
    const a = input[i];
    if (a === '--') break;
    if (GLANCE_DB_VALUE_FLAGS.has(a)) {
      o.rest.push(a);
      if (i + 1 < input.length) o.rest.push(input[++i]);
      continue;
    }
    if (a === '-d' || a === '-v') {
      if (a === '-d') o.debug = true;
      else o.ignored.push(a);
      o.rewritten = true;
      continue;
    }
    if (!a.startsWith('--')) {
      o.rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq < 0 ? a.slice(2) : a.slice(2, eq)).replace(/_/g, '-');
    if (OSLO_VALUE_FLAGS.has(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : i + 1 < input.length ? input[++i] : missingValue(name);
      o.rewritten = true;
      if (name === 'config-file' || name === 'config-dir') {
        o.config.push(configPath(name, value, env));
        if (name === 'config-file') o.files++;
        else o.dirs++;
      } else o.ignored.push(eq >= 0 ? a : `${a} ${value}`);
      continue;
    }
    const bare = name.startsWith('no') && OSLO_SWITCHES.has(name.slice(2)) ? name.slice(2) : name;
    if (OSLO_SWITCHES.has(bare) && (eq < 0 || /^(true|false|yes|no|1|0|on|off)$/i.test(a.slice(eq + 1)))) {
      o.rewritten = true;
      if (bare === 'debug') o.debug = name === 'debug' && (eq < 0 || /^(true|yes|1|on)$/i.test(a.slice(eq + 1)));
      else o.ignored.push(a);
      continue;
    }
    o.rest.push(a);
  }
  o.tail = input.slice(i);
  return o;
}

/** An oslo option that takes a value, last on the line. */
function missingValue(name: string): never {
  throw new UsageError(
    `--${name} needs a value.`,
    name.startsWith('config')
      ? `For example: --${name} /etc/glance/${name === 'config-file' ? 'glance-api.conf' : 'glance.conf.d'}.`
      : undefined,
  );
}

/** A --config-file or --config-dir value as oslo.config reads it (refused when empty). */
function configPath(name: string, value: string, env: NodeJS.ProcessEnv): string {
  if (!value.trim())
    throw new UsageError(
      `--${name} is empty.`,
      `Give a ${name === 'config-file' ? 'file' : 'folder'}, or leave --${name} out for Glance's default config files.`,
    );
  return expandUser(value, env);
}
