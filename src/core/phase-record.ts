// A version row's phase record (the version table's `phases`, JSON text):
// which phases ran and the checksum of each file. Apart from phases.ts so
// that history.ts reads it without importing the phases planner (which reads
// the history).
import type { VersionRow } from './driver/driver.js';
import { PHASES, type Phase } from './manifest/types.js';

/** Phase -> checksum of the file run in it (null: nothing to run in that phase). */
export type PhaseRecord = Partial<Record<Phase, string | null>>;

export function phaseRecord(row: VersionRow | undefined): PhaseRecord | null {
  const text = row?.added?.phases;
  if (!text) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as PhaseRecord) : null;
  } catch {
    return null;
  }
}

export function phaseRecordText(r: PhaseRecord): string {
  return JSON.stringify(Object.fromEntries(PHASES.filter((p) => p in r).map((p) => [p, r[p]])));
}
