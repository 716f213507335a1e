// Usage errors the commands do not see: an unknown command (with suggestions,
// as oclif's plugin-not-found gives, without its start-up cost), extra words
// after a command that takes none, and oclif's parse errors, each turned into
// one glance-db error (error:/hint:, or JSON with --json, exit 2).
import type { Interfaces } from '@oclif/core';
import { GlanceDbError, UsageError } from '../platform/errors.js';
import { redactUrl } from '../platform/url.js';

const words = (id: string) => id.split(':').join(' ');
/** Only plain words are ever echoed: anything else (a pasted URL) is left out. */
const echo = (text: string) => (/^[\w .:=,/+-]{1,80}$/.test(text) && !/:\/\//.test(text) ? redactUrl(text) : null);

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The commands closest to what was typed (at most two edits, or a prefix). */
export function suggest(config: Interfaces.Config, id: string): string[] {
  const ids = [...[...config.commandIDs].filter((c) => !config.findCommand(c)?.hidden), 'help', 'completion'];
  const scored = ids
    .map((c) => ({ c, d: c.startsWith(id) ? 0 : distance(id, c) }))
    .filter((s) => s.d <= Math.max(2, Math.floor(id.length / 3)));
  return scored
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, 3)
    .map((s) => words(s.c));
}

/**
 * `glance-db synx`, `glance-db db synx`, `glance-db version extra args`:
 * oclif joins the words into one id and finds no command.
 */
export function unknownCommandError(config: Interfaces.Config, id: string): GlanceDbError {
  if (id.startsWith('-'))
    return new UsageError(
      'No command given: the command comes first, then its flags (glance-db sync --json).',
      'Run glance-db help for the list of commands.',
    );
  const parts = id.split(':');
  for (let n = parts.length - 1; n > 0; n--) {
    const cmdId = parts.slice(0, n).join(':');
    const cmd = config.findCommand(cmdId);
    if (cmd) {
      const extra = echo(parts.slice(n).join(' '));
      const takes = Object.keys(cmd.args ?? {}).length ? 'takes no such argument' : 'takes no arguments';
      return new UsageError(
        `glance-db ${words(cmdId)} ${takes}${extra ? `: "${extra}"` : ''}.`,
        `Run glance-db help ${words(cmdId)} for its usage.`,
      );
    }
  }
  const shown = echo(words(id));
  const near = suggest(config, id);
  return new UsageError(
    shown ? `Unknown command "${shown}".` : 'Unknown command.',
    `${near.length ? `Did you mean ${near.map((n) => `glance-db ${n}`).join(' or ')}? ` : ''}Run glance-db help for the list of commands.`,
  );
}

/** oclif's argument and flag errors, as one sentence and a hint naming the command. */
export function parseErrorToUsage(
  err: Error & { args?: Array<{ name: string; description?: string }>; flags?: string[] },
  commandId: string | undefined,
): UsageError {
  const cmd = commandId ? words(commandId) : 'COMMAND';
  const hint = `Run glance-db help ${cmd} for its usage.`;
  const name = err.constructor?.name ?? '';
  if (name === 'RequiredArgsError' && err.args?.length) {
    const list = err.args
      .map(
        (a) => `${a.name.toUpperCase()}${a.description ? ` (${a.description.replace(/\.$/, '').toLowerCase()})` : ''}`,
      )
      .join(', ');
    return new UsageError(`glance-db ${cmd} needs ${list}.`, `For example: glance-db ${cmd} 51. ${hint}`);
  }
  if (name === 'UnexpectedArgsError' && Array.isArray(err.args)) {
    const extra = echo(err.args.map(String).join(' '));
    return new UsageError(`glance-db ${cmd} takes fewer arguments${extra ? `; unexpected: "${extra}"` : ''}.`, hint);
  }
  if (name === 'NonExistentFlagsError' && err.flags?.length) {
    const flags = err.flags.map((f) => echo(f.split('=')[0]) ?? '(unprintable)').join(', ');
    return new UsageError(`glance-db ${cmd} has no flag ${flags}.`, hint);
  }
  const text = err.message
    .split('\n')
    .filter((l) => !/^\s*See more help|^\s*Note: --|allows multiple values|to signify the end of the flags/.test(l))
    .join(' ')
    .replace(/Note: --\S+ allows multiple values\..*$/s, '')
    .replace(/\s+/g, ' ')
    .trim();
  return new UsageError(text, hint);
}
