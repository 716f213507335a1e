// The catalogue of schema forms Glance's own tools really produced
// (schema/variants.json, explained in docs/variants.md): each known variant
// is a set of allowed differences from the expected model of a version, in
// the words `verify` prints them. A database whose differences are all
// allowed by one variant is Glance's, not a hand-made change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../platform/errors.js';
import { PACKAGE_ROOT } from '../platform/paths.js';
import type { Dialect } from '../core/driver/dialect.js';
import type { Variant } from '../core/rules.js';

/** A known variant or state: the engine's port type (src/core/rules.ts), filled from schema/variants.json. */
export type { Variant };

interface Catalogue {
  variants: Variant[];
  states: Variant[];
}

export const VARIANTS_PATH = join(PACKAGE_ROOT, 'schema', 'variants.json');

let loaded: Catalogue | null = null;

export function catalogue(): Catalogue {
  if (loaded) return loaded;
  try {
    loaded = JSON.parse(readFileSync(VARIANTS_PATH, 'utf8')) as Catalogue;
  } catch (err) {
    throw new ConfigError(
      `The catalogue of Glance's schema variants (${VARIANTS_PATH}) cannot be read: ${(err as Error).message}.`,
    );
  }
  return loaded;
}

const patterns = new Map<string, RegExp>();

/** Whether one difference is allowed by one pattern (exact text, `*` for any text). */
export function allows(pattern: string, difference: string): boolean {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      's',
    );
    patterns.set(pattern, re);
  }
  return re.test(difference);
}

export const allowedBy = (v: Variant, difference: string) => v.allow.some((p) => allows(p, difference));

export function variantById(id: string): Variant | undefined {
  return catalogue().variants.find((v) => v.id === id);
}

/**
 * The known variant that explains every one of the differences, or null
 * (also for none: the fresh form needs no explaining). The most specific
 * one wins: legacy-born-mysql before mysql-without-checks.
 */
export function matchVariant(dialect: Dialect, differences: string[]): Variant | null {
  if (differences.length === 0) return null;
  const fits = catalogue()
    .variants.filter(
      (v) => v.dialects.includes(dialect) && v.allow.length > 0 && differences.every((d) => allowedBy(v, d)),
    )
    .sort(
      (a, b) =>
        a.allow.length - b.allow.length ||
        Number(a.allow.some((p) => p.includes('*'))) - Number(b.allow.some((p) => p.includes('*'))),
    );
  return fits[0] ?? null;
}

/** A transient state (a rolling upgrade stopped half way), by id. */
export function state(id: string): Variant {
  const s = catalogue().states.find((x) => x.id === id);
  if (!s) throw new ConfigError(`${VARIANTS_PATH} has no state "${id}".`);
  return s;
}

/** The state a rolling upgrade leaves while `version`'s contract phase is pending, if the catalogue describes it. */
export function contractState(version: number): Variant | undefined {
  return catalogue().states.find((x) => x.contractOf === version);
}

/** One line for messages: `legacy-born-mysql (a MySQL/MariaDB database born before Liberty: ...)`. */
export function describe(v: Variant): string {
  return `${v.id} (${v.producedBy.split(':')[0]})`;
}
