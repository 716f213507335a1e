// Glance's config files read as oslo.config reads them (oslo_config/iniparser.py
// and cfg.py), so that glance-db opens the database glance-api would:
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
import { ConfigError } from '../platform/errors.js';
import { passwordCandidates } from '../platform/url.js';

export type Sections = Map<string, Map<string, { value: string; line: number; lines: number }>>;

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
    new ConfigError(`${path}:${lineNo}: ${why}; oslo.config (and so Glance) cannot read this file either.`, {
      hint: 'Fix the file, or pass the database URL with --url instead.',
    });
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
export function substitute(
  sections: Sections,
  group: string,
  raw: string,
  path: string,
  where: string,
  depth = 0,
): string {
  const value = raw.replace(/\\\$/g, '$$$$');
  return value.replace(
    PLACEHOLDER,
    (_m, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
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
          {
            hint: inPassword
              ? 'A literal $ in an oslo.config value (a password, say) is written $$ (or \\$); Glance reads it the same way.'
              : `Set ${name} in the file, write a literal $ as $$, or pass the database URL with --url.`,
          },
        );
      }
      if (depth > 20)
        throw new ConfigError(`${where} in ${path}: option references nest too deep (a loop such as a = $b, b = $a?).`);
      return substitute(sections, section, found.value, path, where, depth + 1);
    },
  );
}
