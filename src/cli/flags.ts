// Number flags, checked before anything uses them: a whole number in a range
// every consumer can take. Seconds become milliseconds for Node's timers
// (at most 2^31-1 ms, else Node fires at once) and for the servers'
// statement_timeout / lock_timeout (a 32-bit integer of milliseconds), so no
// duration flag may exceed 2147483 s (24.8 days).
import { Flags } from '@oclif/core';
import { UsageError } from '../platform/errors.js';

export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function secondsFlag(opts: {
  name: string;
  description: string;
  default: number;
  min: number;
  max?: number;
  helpGroup?: string;
}) {
  const max = opts.max ?? MAX_SECONDS;
  return Flags.custom<number>({
    description: opts.description,
    default: opts.default,
    helpGroup: opts.helpGroup,
    async parse(input: string) {
      return parseWhole(`--${opts.name}`, input, opts.min, max, 'seconds');
    },
  })();
}

/** A whole number from min to max, or a usage error that says so (quoting the value only when it is short and plain). */
export function parseWhole(name: string, input: string, min: number, max: number, unit = ''): number {
  const shown = /^[\w.+-]{1,24}$/.test(input) ? `, not "${input}"` : '';
  const what = `${name} must be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}${shown}.`;
  const hint = `glance-db help lists every flag with its default; ${name} ${min === 0 ? '0' : String(min)} is the smallest value.`;
  if (!/^\d+$/.test(input)) throw new UsageError(what, hint);
  const n = Number(input);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(what, hint);
  return n;
}

/** --release: the target as a Glance release (or a version), for the commands that take one (check, db check, verify, sync...). */
export const releaseFlag = (what: string) =>
  Flags.string({
    description: `${what} (zed, 2023.2, 28.0, or a version such as 50); the same as giving it as TARGET. glance-db versions lists them.`,
  });
