// How load and diff show a plan: one line per namespace, then one line per
// change, and a summary.
import type { Change, NamespacePlan, NamespaceStatus } from './store.js';

const KIND: Record<Change['kind'], string> = {
  namespace: 'namespace',
  resource_type_association: 'resource type',
  property: 'property',
  object: 'object',
  tag: 'tag',
};

export function changeLine(c: Change): string {
  const what = `${KIND[c.kind]} ${c.name}`;
  const fields = c.fields ? ` (${c.fields.join(', ')})` : '';
  switch (c.action) {
    case 'add':
      return `  + ${what}`;
    case 'update':
      return `  ~ ${what}${fields}`;
    case 'remove':
      return `  - ${what}`;
    case 'keep':
      return `  ! ${what} differs from the file${fields}; kept (--prefer-new takes the file's)`;
    case 'extra':
      return `  = ${what} is only in the database; kept (--overwrite removes it)`;
  }
}

/** The lines for one namespace; a new namespace is one line with its counts, not a line per item. */
export function planLines(p: NamespacePlan, verb: (s: NamespaceStatus) => string): string[] {
  const head = `${verb(p.status)} ${p.namespace} (${p.file})`;
  if (p.status === 'added') {
    const n = (k: Change['kind']) => p.changes.filter((c) => c.kind === k).length;
    return [
      `${head}: ${n('property')} properties, ${n('object')} objects, ${n('tag')} tags, ${n('resource_type_association')} resource types`,
    ];
  }
  if (p.status === 'skipped') return [`${head}: already in the database (--merge adds what is new)`];
  return [head, ...p.changes.filter((c) => c.kind !== 'namespace' || c.action !== 'add').map(changeLine)];
}

export function summary(plans: NamespacePlan[]): Record<NamespaceStatus, number> {
  const s: Record<NamespaceStatus, number> = { added: 0, updated: 0, unchanged: 0, skipped: 0 };
  for (const p of plans) s[p.status]++;
  return s;
}
