import type { Interfaces } from '@oclif/core';
import { UsageError } from '../platform/errors.js';

/**
 * `glance-db completion bash|zsh`: shell completion, generated from the commands and flags themselves (the part
 * of oclif's plugin-autocomplete glance-db needs, without its dependencies).
 */
export function completionScript(config: Interfaces.Config, shell = 'bash'): string {
  if (shell !== 'bash' && shell !== 'zsh')
    throw new UsageError(
      `No completion for the shell "${shell.slice(0, 20).replace(/[^\w-]/g, '?')}": bash and zsh are supported.`,
      'Run glance-db completion bash, or glance-db completion zsh.',
    );
  const visible = config.commands.filter((c) => !c.hidden);
  const top = [...new Set([...visible.map((c) => c.id.split(':')[0]), 'help', 'completion'])].sort();
  const db = visible
    .filter((c) => c.id.startsWith('db:'))
    .map((c) => c.id.slice(3))
    .sort();
  const cases = visible
    .filter((c) => !c.id.includes(':'))
    .map((c) => {
      const flags = Object.entries(c.flags).flatMap(([name, f]) => [`--${name}`, ...(f.char ? [`-${f.char}`] : [])]);
      const options = Object.entries(c.flags)
        .filter(([, f]) => f.type === 'option' && f.options?.length)
        .map(
          ([name, f]) =>
            `      --${name}) COMPREPLY=($(compgen -W "${(f as { options: readonly string[] }).options.join(' ')}" -- "$cur")); return;;`,
        );
      return `    ${c.id})\n      flags="${flags.sort().join(' ')}"\n      case "$prev" in\n${options.join('\n')}${options.length ? '\n' : ''}      esac;;`;
    });
  const script = [
    '# glance-db shell completion (glance-db completion bash|zsh)',
    ...(shell === 'zsh' ? ['autoload -U +X bashcompinit && bashcompinit'] : []),
    '_glance_db() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="${COMP_WORDS[1]}" flags=""',
    `  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); return; fi`,
    `  if [ "$cmd" = db ]; then`,
    `    if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "${db.join(' ')}" -- "$cur")); return; fi`,
    '    cmd="${COMP_WORDS[2]}"',
    '  fi',
    '  case "$cmd" in',
    ...cases,
    '  esac',
    '  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi',
    '}',
    'complete -o filenames -F _glance_db glance-db',
    '',
  ].join('\n');
  return script;
}
