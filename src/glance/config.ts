// Reads `[database] connection` from Glance's own config file
// (/etc/glance/glance-api.conf), so operators never retype credentials. The
// file is read as oslo.config reads it (oslo_config/iniparser.py and
// cfg.py), so that glance-db opens the database glance-api would:
// - `key = value` or `key: value` (whichever of = and : comes first); the
//   value is stripped and one pair of matching quotes removed;
// - comments are lines that START with # or ; (not indented, not inline);
// - a line starting with a space or tab continues the previous value, and
//   the lines are joined with a line break (which no URL may contain, so a
//   connection spread over lines is refused: Glance could not use it either);
//   a blank line ends a value;
// - section names are lower-cased, except DEFAULT; the last assignment wins;
// - `$option` and `${option}` are replaced by that option's value (the same
//   section first, then [DEFAULT]; `group.option` names a section), itself
//   substituted; `$$` and `\$` are a literal `$`; a `$` that starts no name
//   stays as it is (string.Template.safe_substitute). An option the file does
//   not set is refused: glance-db does not guess a value (Glance itself
//   registers no state_path, for instance, so it could not resolve one either).
// Nothing from the file is quoted in a message except option names, and not
// even those when they may be part of a password.
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readBounded, TooLargeError } from '../util/read-bounded.js';

/** Glance's sample glance-api.conf, every option commented, is about 250 KB. */
const MAX_GLANCE_CONFIG_BYTES = 16 * 1024 * 1024;
import { ConfigError } from '../errors.js';
import { passwordCandidates, registerSecretsOf } from '../url.js';

type Sections = Map<string, Map<string, { value: string; line: number; lines: number }>>;

function normalizeSection(name: string): string {
  return name === 'DEFAULT' ? name : name.toLowerCase();
}

export function parseOsloIni(text: string, path: string): Sections {
  const sections: Sections = new Map();
  let section: string | null = null;
  let key: string | null = null;
  let value: string[] = [];
  let keyLine = 0;
  const bad = (lineNo: number, why: string) =>
    new ConfigError(`${path}:${lineNo}: ${why}; oslo.config (and so Glance) cannot read this file either.`, { hint: 'Fix the file, or pass the database URL with --url instead.' });
  const flush = () => {
    if (key === null) return;
    if (section === null) throw bad(keyLine, 'a setting before any [section]');
    sections.get(section)!.set(key, { value: value.join('\n'), line: keyLine, lines: value.length });
    key = null;
    value = [];
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trimEnd();
    if (!line) return flush();
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (key === null) throw bad(lineNo, 'an indented (continuation) line with no setting before it');
      value.push(line.trimStart());
      return;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw bad(lineNo, 'a section header that does not end with ]');
      if (line.length <= 2) throw bad(lineNo, 'an empty section name');
      section = normalizeSection(line.slice(1, -1));
      if (!sections.has(section)) sections.set(section, new Map());
      return;
    }
    if (line.startsWith('#') || line.startsWith(';')) return;
    const colon = line.indexOf(':');
    const equal = line.indexOf('=');
    if (colon < 0 && equal < 0) throw bad(lineNo, "a line with no '=' or ':'");
    const sep = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
    const k = line.slice(0, sep).trim();
    let v = line.slice(sep + 1).trim();
    if (v && v[0] === v[v.length - 1] && (v[0] === '"' || v[0] === "'")) v = v.slice(1, -1);
    if (!k) throw bad(lineNo, 'a setting with an empty name');
    key = k;
    value = [v];
    keyLine = lineNo;
  });
  flush();
  return sections;
}

// string.Template's pattern with oslo.config's idpattern ([_a-z][\._a-z0-9]*, case-insensitive).
const PLACEHOLDER = /\$(?:(\$)|([_a-z][._a-z0-9]*)|\{([_a-z][._a-z0-9]*)\})/gi;

/** Substitutes $option / ${option} in a value of [group] as oslo.config does. */
export function substitute(sections: Sections, group: string, raw: string, path: string, where: string, depth = 0): string {
  const value = raw.replace(/\\\$/g, '$$$$');
  return value.replace(PLACEHOLDER, (_m, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
    if (escaped) return '$';
    const name = (named ?? braced)!;
    const dot = name.indexOf('.');
    const [inGroup, option] = dot >= 0 ? [normalizeSection(name.slice(0, dot)), name.slice(dot + 1)] : [group, name];
    // StrSubWrapper: the option in its group, else the whole name in [DEFAULT].
    const [section, found] = sections.get(inGroup)?.has(option)
      ? [inGroup, sections.get(inGroup)!.get(option)]
      : ['DEFAULT', sections.get('DEFAULT')?.get(name)];
    if (!found) {
      const inPassword = passwordCandidates(raw).some((c) => c.includes(`$${name}`) || c.includes(`\${${name}}`));
      throw new ConfigError(
        inPassword
          ? `${where} in ${path} uses a $ that oslo.config reads as a reference to another option, and the file sets no such option.`
          : `${where} in ${path} refers to $${name}, and the file sets no option ${name} (in [${group}] or [DEFAULT]); glance-db does not guess its value.`,
        { hint: inPassword
          ? 'A literal $ in an oslo.config value (a password, say) is written $$ (or \\$); Glance reads it the same way.'
          : `Set ${name} in the file, write a literal $ as $$, or pass the database URL with --url.` },
      );
    }
    if (depth > 20) throw new ConfigError(`${where} in ${path}: option references nest too deep (a loop such as a = $b, b = $a?).`);
    return substitute(sections, section, found.value, path, where, depth + 1);
  });
}

export function connectionFromGlanceConfig(path: string): string {
  let text: string;
  try {
    text = readBounded(path, MAX_GLANCE_CONFIG_BYTES).toString('utf8');
  } catch (err) {
    if (err instanceof TooLargeError) throw new ConfigError(`The Glance config ${path} is larger than ${MAX_GLANCE_CONFIG_BYTES} bytes (16 MiB); it cannot be a glance-api.conf.`);
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  const sections = parseOsloIni(text, path);
  const found = sections.get('database')?.get('connection');
  if (!found || !found.value) {
    throw new ConfigError(`${path} has no [database] connection setting.`, { hint: 'Pass the database URL with --url instead.' });
  }
  registerSecretsOf(found.value);
  if (found.lines > 1) {
    throw new ConfigError(
      `[database] connection in ${path} (line ${found.line}) continues on ${found.lines - 1} indented line(s): oslo.config joins them with a line break, which no database URL may contain, so Glance cannot use it either.`,
      { hint: 'Put the whole URL on one line.' },
    );
  }
  const url = substitute(sections, 'database', found.value, path, '[database] connection');
  registerSecretsOf(url);
  return url;
}

// ---------------------------------------------------------------------------
// Which files: several --glance-config files and directories, and the files
// glance-manage reads by default. Kept apart from the parsing above.

/**
 * The folders oslo.config's find_config_files() searches, in its order:
 * ~/.glance, ~, /etc/glance, /etc. GLANCE_DB_GLANCE_CONFIG_DIRS (a
 * colon-separated list) replaces them; it exists for tests, so that they never
 * depend on the machine's real /etc/glance.
 */
export function glanceConfigSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.GLANCE_DB_GLANCE_CONFIG_DIRS;
  if (override !== undefined) return override.split(':').filter(Boolean);
  const home = env.HOME || homedir();
  return [join(home, '.glance'), home, '/etc/glance', '/etc'];
}

const firstIn = (dirs: string[], name: string, wantDir: boolean): string | null => {
  for (const d of dirs) {
    const p = join(d, name);
    try {
      if (statSync(p).isDirectory() === wantDir) return p;
    } catch {
      // absent: try the next folder
    }
  }
  return null;
};

/**
 * What glance-manage reads when given no --config-file (glance/cmd/manage.py:
 * find_config_files(project='glance', prog='glance-api') then prog='glance-manage';
 * each finds glance.conf and PROG.conf in the first folder that has it), then
 * the --config-dir folders oslo.config adds by default (glance.conf.d,
 * glance-manage.conf.d). Later entries override earlier ones.
 */
export function defaultGlanceConfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = glanceConfigSearchDirs(env);
  const found = [
    firstIn(dirs, 'glance.conf', false),
    firstIn(dirs, 'glance-api.conf', false),
    firstIn(dirs, 'glance-manage.conf', false),
    firstIn(dirs, 'glance.conf.d', true),
    firstIn(dirs, 'glance-manage.conf.d', true),
  ].filter((p): p is string => p !== null);
  return [...new Set(found)];
}

/**
 * Files and folders in the order given become files in the order read, as
 * oslo.config's --config-file / --config-dir do: a folder contributes its
 * `*.conf` files in alphabetical order. A missing path is a config error.
 */
export function expandGlanceConfigPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new ConfigError(`Cannot read the Glance config ${p}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
    }
    if (!isDir) files.push(p);
    else {
      let names: string[];
      try {
        names = readdirSync(p);
      } catch (err) {
        throw new ConfigError(`Cannot read the Glance config folder ${p}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
      }
      files.push(...names.filter((n) => n.endsWith('.conf')).sort().map((n) => join(p, n)).filter((f) => !statSync(f).isDirectory()));
    }
  }
  return files;
}

/** One `section.key` setting of a file, read and substituted as oslo.config does, or undefined. */
function settingIn(path: string, section: string, key: string): string | undefined {
  let text: string;
  try {
    text = readBounded(path, MAX_GLANCE_CONFIG_BYTES).toString('utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the Glance config ${path}: ${(err as NodeJS.ErrnoException).code ?? err}.`);
  }
  const sections = parseOsloIni(text, path);
  const found = sections.get(section)?.get(key);
  if (!found || !found.value) return undefined;
  registerSecretsOf(found.value);
  const url = substitute(sections, section, found.value, path, `[${section}] ${key}`);
  registerSecretsOf(url);
  return url;
}

/**
 * oslo.db's `[database] connection` across several files, later files
 * winning; only where no file sets it, its deprecated names
 * `[DEFAULT] sql_connection` and `[sql] connection` (oslo.config looks up the
 * current name first, then each deprecated one). Null when none is set.
 */
export function connectionFromGlanceConfigFiles(files: string[]): { url: string; file: string; name: string } | null {
  const names: Array<[string, string, string]> = [
    ['database', 'connection', '[database] connection'],
    ['DEFAULT', 'sql_connection', '[DEFAULT] sql_connection (deprecated)'],
    ['sql', 'connection', '[sql] connection (deprecated)'],
  ];
  for (const [section, key, name] of names) {
    for (const file of [...files].reverse()) {
      if (section === 'database') {
        // The current name goes through the main parser (and whatever it resolves).
        try {
          return { url: connectionFromGlanceConfig(file), file, name };
        } catch (err) {
          if (!(err instanceof ConfigError) || !/has no \[database\] connection/.test(err.message)) throw err;
          continue;
        }
      }
      const url = settingIn(file, section, key);
      if (url) return { url, file, name };
    }
  }
  return null;
}
