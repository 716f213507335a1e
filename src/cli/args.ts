// Positional version arguments: whole numbers, or a Glance release (zed,
// 2023.2, 25.0) meaning the version that release's db sync reaches; checked
// here so that "abc" or "45.5" gets a usage error naming the argument.
// Arguments come from the command line only: oclif would otherwise read a
// piped standard input as a missing positional argument (`echo 44 |
// glance-db sync` stopping at 44, `< file` echoing the file in the error).
import { Args } from '@oclif/core';
import { UsageError } from '../platform/errors.js';
import { findRelease } from '../glance/releases.js';
import { revisionTarget } from '../glance/revisions.js';

/** A version number, or the version of a named Glance release. */
export function parseVersionOrRelease(name: string, input: string): number {
  const t = input.trim();
  if (/^\d{1,9}$/.test(t)) return Number(t);
  const r = findRelease(t);
  if (r) return r.version;
  // glance-manage's targets: an Alembic revision of the contract branch is the version it completes.
  const rev = revisionTarget(t);
  if (rev?.branch === 'contract') return rev.version;
  if (rev)
    throw new UsageError(
      `${name} ${t} is an expand revision: it stands for half of version ${rev.version} (the schema additions), not a version.`,
      `glance-db expand ${rev.version} runs that half; glance-db sync ${rev.version} the whole version.`,
    );
  if (t === 'heads' || t === 'head')
    throw new UsageError(
      `${name} "${t}" is Alembic's word for the newest revision; glance-db's is to leave ${name} out.`,
      "glance-db db sync heads (glance-manage's spelling) works as well.",
    );
  const shown = /^[\w.-]{1,40}$/.test(t) ? `"${t}"` : 'what was given';
  throw new UsageError(
    `${name} must be a whole number such as 51, a Glance release such as zed, 2023.2 or 28.0, or an Alembic revision such as wallaby_contract01, not ${shown}.`,
    'glance-db versions lists every version with its Glance releases.',
  );
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

/** A target as given: its version, and the word written (zed, 2023.1, 50), which suggested commands repeat. */
export interface GivenTarget {
  version: number;
  word: string;
}

function parseTarget(name: string, input: string): GivenTarget {
  const version = parseVersionOrRelease(name, input);
  const t = input.trim().toLowerCase();
  return { version, word: /^\d+$/.test(t) ? String(version) : t };
}

/** A positional target that keeps the word written: check zed, db check 2023.1, verify 50. */
export const targetArg = (name: string, description: string) =>
  Args.custom<GivenTarget>({
    description,
    required: false,
    ignoreStdin: true,
    async parse(input: string) {
      return parseTarget(name, input);
    },
  })();

/** The target from a positional TARGET and --release: either, or both when they agree. */
export function givenTarget(
  arg: GivenTarget | number | undefined,
  release: string | undefined,
  argName = 'VERSION',
): GivenTarget | undefined {
  const positional = typeof arg === 'number' ? { version: arg, word: String(arg) } : arg;
  if (release === undefined) return positional;
  const byRelease = parseTarget('--release', release);
  if (positional && positional.version !== byRelease.version) {
    throw new UsageError(
      `${argName} ${positional.word} (version ${positional.version}) and --release ${release} (version ${byRelease.version}) disagree.`,
      'Give one of them.',
    );
  }
  return positional && /^\d+$/.test(byRelease.word) ? positional : byRelease;
}
