// Positional version arguments: whole numbers, or a Glance release (zed,
// 2023.2, 25.0) meaning the version that release's db sync reaches; checked
// here so that "abc" or "45.5" gets a usage error naming the argument.
// Arguments come from the command line only: oclif would otherwise read a
// piped standard input as a missing positional argument (`echo 44 |
// glance-db sync` stopping at 44, `< file` echoing the file in the error).
import { Args } from '@oclif/core';
import { UsageError } from './errors.js';
import { findRelease } from './glance/releases.js';

/** A version number, or the version of a named Glance release. */
export function parseVersionOrRelease(name: string, input: string): number {
  const t = input.trim();
  if (/^\d{1,9}$/.test(t)) return Number(t);
  const r = findRelease(t);
  if (r) return r.version;
  const shown = /^[\w.-]{1,40}$/.test(t) ? `"${t}"` : 'what was given';
  throw new UsageError(`${name} must be a whole number such as 51, or a Glance release such as zed, 2023.2 or 28.0, not ${shown}.`, 'glance-db versions lists every version with its Glance releases.');
}

export const versionArg = (name: string, description: string, required = false) =>
  Args.custom<number>({
    description,
    required,
    ignoreStdin: true,
    async parse(input: string) {
      return parseVersionOrRelease(name, input);
    },
  })();
