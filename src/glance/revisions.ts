// Glance's own version bookkeeping, mapped onto glance-db's version line
// (docs/glance-versions.md). glance-manage keeps the Alembic
// revision in alembic_version (one row, or two during a rolling upgrade:
// the expand head and the contract head); before Ocata it kept the legacy
// sqlalchemy-migrate number in migrate_version.

/** The contract branch in order, with the glance-db version each revision completes. */
export const CONTRACT_CHAIN: [revision: string, version: number][] = [
  ['liberty', 42],
  ['mitaka01', 43],
  ['mitaka02', 44],
  ['ocata_contract01', 45],
  ['pike_contract01', 46],
  ['queens_contract01', 46],
  ['rocky_contract01', 47],
  ['rocky_contract02', 48],
  ['train_contract01', 49],
  ['ussuri_contract01', 49],
  ['wallaby_contract01', 50],
  ['xena_contract01', 50],
  ['yoga_contract01', 50],
  ['zed_contract01', 50],
  ['2023_1_contract01', 50],
  ['2024_1_contract01', 51],
];

/** The expand branch in order, with the version whose schema additions each revision brings in. */
export const EXPAND_CHAIN: [revision: string, version: number][] = [
  ['ocata_expand01', 45],
  ['pike_expand01', 46],
  ['queens_expand01', 46],
  ['rocky_expand01', 47],
  ['rocky_expand02', 48],
  ['train_expand01', 49],
  ['ussuri_expand01', 49],
  ['wallaby_expand01', 50],
  ['xena_expand01', 50],
  ['yoga_expand01', 50],
  ['zed_expand01', 50],
  ['2023_1_expand01', 50],
  ['2024_1_expand01', 51],
];

/** Old single-branch names that Glance still accepts. */
export const ALIASES: Record<string, string> = { ocata01: 'ocata_contract01', pike01: 'pike_contract01' };

/**
 * The Alembic revision that a glance-db version equals, for writing
 * alembic_version back: the first contract revision that completes it
 * (later ones of the same version are empty steps).
 */
export const REVISION_FOR_VERSION: Record<number, string> = Object.fromEntries(
  [...CONTRACT_CHAIN].reverse().map(([revision, version]) => [version, revision]),
);

/** The newest Alembic revision glance-db knows. */
export const NEWEST_REVISION = CONTRACT_CHAIN[CONTRACT_CHAIN.length - 1][0];

/** Versions that only change data (no schema): safe to run again, and not covered by an expand step. */
export const DATA_ONLY_VERSIONS = [44, 49];

/** An Alembic revision name (or old alias): the glance-db version it stands for, and its branch; null if none. */
export function revisionTarget(word: string): { version: number; branch: 'contract' | 'expand' } | null {
  const name = ALIASES[word] ?? word;
  const c = CONTRACT_CHAIN.find(([r]) => r === name);
  if (c) return { version: c[1], branch: 'contract' };
  const e = EXPAND_CHAIN.find(([r]) => r === name);
  if (e) return { version: e[1], branch: 'expand' };
  return null;
}
