// JSON Schema validation of the manifest, with every error pointing at the
// YAML source: `glance-db.yaml:14: migrations[3].files.mysql: must be string`.
// The schema is compiled at build time (scripts/build-validator.mjs), not at
// every start-up.
import type { ErrorObject } from 'ajv';
import { isMap, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import validator from './schema-validator.js';

/** "/migrations/3/files/mysql" -> "migrations[3].files.mysql" */
export function displayPath(segments: (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') || '(top level)';
}

function segmentsOf(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The YAML node at a path, or the deepest ancestor that exists. */
export function nodeAt(doc: Document, segments: (string | number)[]): Node | null {
  let node: unknown = doc.contents;
  for (const seg of segments) {
    if (isMap(node)) node = node.get(seg, true) ?? node;
    else if (isSeq(node)) node = node.get(seg as number, true) ?? node;
    else break;
  }
  return (node as Node) ?? null;
}

function keyNode(doc: Document, segments: (string | number)[], key: string): Node | null {
  const parent = nodeAt(doc, segments);
  if (!isMap(parent)) return parent;
  const pair = parent.items.find((p) => (p.key as { value?: unknown })?.value === key);
  return (pair?.key as Node) ?? parent;
}

export function lineOf(node: Node | null, lc: LineCounter): number {
  return node?.range ? lc.linePos(node.range[0]).line : 1;
}

function describe(e: ErrorObject): { message: string; extraKey?: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { message: `unknown key "${p.additionalProperty}"`, extraKey: String(p.additionalProperty) };
    case 'required':
      return { message: `missing required key "${p.missingProperty}"` };
    case 'enum':
      return { message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { message: `${e.message}` };
    default:
      return { message: e.message ?? e.keyword };
  }
}

/** A compiled validator (scripts/build-validator.mjs). */
export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** At most this many schema errors are located and shown; the rest are counted ("... and N more"). */
export const MAX_SHOWN_ERRORS = 20;
/** Locating an error in the YAML costs a walk; past this many, errors are only counted. */
const MAX_LOCATED_ERRORS = 200;

/**
 * Returns one line per schema violation, in source order, empty when valid:
 * at most MAX_SHOWN_ERRORS of them, then "... and N more" (a manifest with
 * 100,000 bad versions once printed 100,000 lines after 42 s and 2 GB).
 * The manifest's validator unless another is given.
 */
export function schemaErrors(
  data: unknown,
  doc: Document,
  lc: LineCounter,
  fileLabel: string,
  validate: Validator = validator,
): string[] {
  if (validate(data)) return [];
  const all = validate.errors ?? [];
  const seen = new Set<string>();
  const lines: { line: number; text: string }[] = [];
  for (const e of all.slice(0, MAX_LOCATED_ERRORS)) {
    const segs = segmentsOf(e.instancePath);
    const { message, extraKey } = describe(e);
    const node = extraKey ? keyNode(doc, segs, extraKey) : nodeAt(doc, segs);
    const path = displayPath(extraKey ? [...segs, extraKey] : segs);
    const line = lineOf(node, lc);
    const text = `${fileLabel}:${line}: ${path}: ${message}`;
    if (!seen.has(text)) lines.push({ line, text });
    seen.add(text);
  }
  const sorted = lines.sort((a, b) => a.line - b.line).map((l) => l.text);
  const more = sorted.length - MAX_SHOWN_ERRORS + Math.max(0, all.length - MAX_LOCATED_ERRORS);
  return more > 0 ? [...sorted.slice(0, MAX_SHOWN_ERRORS), `... and ${more} more`] : sorted;
}
