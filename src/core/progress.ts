// What a run reports as it goes (opening, each version, each statement,
// each phase and batch): the engine emits these events, src/cli renders them
// as progress lines or --json events.
import type { Phase } from './manifest/types.js';

export type ProgressEvent =
  | { type: 'opening' }
  | { type: 'locking' }
  | { type: 'backup-start' }
  | { type: 'backup'; path: string }
  | { type: 'backup-skipped'; reason: string }
  | { type: 'baseline'; versions: number[] }
  | { type: 'adopted'; versions: number[]; source: string }
  /** What the other tool did on a database glance-db manages, recorded without running anything (engine/handback.ts). */
  | { type: 'recorded'; versions: number[]; line: string }
  | { type: 'variant'; id: string; description: string }
  | { type: 'drift-accepted'; differences: string[] }
  | { type: 'start'; version: number; name: string }
  /** Before each statement of a version that has more than one (index is 0-based; total counts the whole file). */
  | { type: 'statement'; version: number; name: string; index: number; total: number; text: string }
  | { type: 'applied'; version: number; name: string; ms: number }
  | { type: 'skipped'; version: number; name: string }
  | { type: 'phase-start' | 'phase-skipped'; version: number; name: string; phase: Phase }
  | {
      type: 'phase-done';
      version: number;
      name: string;
      phase: Phase;
      ms: number;
      rows?: number;
      nothingToRun?: boolean;
      reports?: { name: string; label: string; value: number | null }[];
    }
  | {
      type: 'batch';
      version: number;
      name: string;
      statement: number;
      statements: number;
      batch: number;
      rows: number;
      done: number;
      total: number | null;
      ms: number;
    };
