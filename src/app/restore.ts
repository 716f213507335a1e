// Downgrades are not supported (nor were they by glance-manage since Ocata):
// the way back is the backup taken before the upgrade. These are the concrete
// steps for the configured database, with no password in them; the steps
// that put the backup back are its dialect's (src/dialects/<name>/description.ts).
import { DIALECTS } from '../dialects/index.js';
import type { DatabaseTarget } from '../platform/url.js';

export function restoreSteps(target: DatabaseTarget, check: string, backup?: string): string[] {
  const { restore } = DIALECTS[target.dialect];
  return [
    'Stop every Glance service that uses this database (glance-api and any glance-manage job).',
    ...restore.steps(target, backup ?? restore.placeholder),
    `Check the level: ${check}`,
    `Start the Glance services again.${restore.passwordNote ? ` ${restore.passwordNote}` : ''}`,
  ];
}
