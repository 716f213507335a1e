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

/**
 * Glance's data migrations (its data_migrations folder, run by glance-manage
 * db migrate) that do work, with the version each belongs to; Alembic records
 * none of them in alembic_version (docs/reference/version-line.md).
 */
export const DATA_MIGRATIONS: [revision: string, version: number][] = [
  ['ocata_migrate01', 45],
  ['train_migrate01', 49],
];

/**
 * The last number Glance's legacy sqlalchemy-migrate repository wrote to
 * migrate_version: Ocata moved Glance to Alembic, at ocata_contract01's
 * version (docs/reference/version-line.md, the "legacy number" column).
 */
export const LAST_LEGACY_VERSION = CONTRACT_CHAIN.find(([r]) => r === 'ocata_contract01')![1];

/** migrate_version's number for a glance-db version: the same up to the last legacy one, which it keeps past it. */
export const legacyNumber = (version: number): number => Math.min(version, LAST_LEGACY_VERSION);

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

/**
 * The contract revision to write for a version, given the contract head of
 * the installed Glance's glance-manage (glance/installed.ts
 * installedContractHead): that head where it stands for the same version
 * (Glance 2023.1 and 2023.2 hold 2023_1_contract01 at 50, zed
 * wallaby_contract01, and each looks for its own in alembic_version), else
 * the first revision that completes the version.
 */
export function contractRevisionFor(version: number, installedHead: string | null): string | undefined {
  if (installedHead && CONTRACT_CHAIN.some(([r, v]) => r === installedHead && v === version)) return installedHead;
  return REVISION_FOR_VERSION[version];
}

/** The expand head glance-manage of that release holds during a rolling upgrade to `version` (2023_1_expand01 for 2023.1 at 50); null when it has none there. */
export function expandRevisionFor(version: number, installedHead: string | null): string | null {
  const mine = installedHead?.replace(/_contract(\d\d)$/, '_expand$1');
  return mine && EXPAND_CHAIN.some(([r, v]) => r === mine && v === version) ? mine : null;
}

/** The newest Alembic revision glance-db knows. */
export const NEWEST_REVISION = CONTRACT_CHAIN[CONTRACT_CHAIN.length - 1][0];

/** The Alembic revisions glance-manage leaves at a version (the contract head, and its old aliases). */
export function revisionsAt(version: number): string[] {
  const revs = CONTRACT_CHAIN.filter(([, v]) => v === version).map(([r]) => r);
  return [
    ...revs,
    ...Object.entries(ALIASES)
      .filter(([, r]) => revs.includes(r))
      .map(([a]) => a),
  ];
}

/** An Alembic revision name (or old alias): the glance-db version it stands for, and its branch; null if none. */
export function revisionTarget(word: string): { version: number; branch: 'contract' | 'expand' } | null {
  const name = ALIASES[word] ?? word;
  const c = CONTRACT_CHAIN.find(([r]) => r === name);
  if (c) return { version: c[1], branch: 'contract' };
  const e = EXPAND_CHAIN.find(([r]) => r === name);
  if (e) return { version: e[1], branch: 'expand' };
  return null;
}
