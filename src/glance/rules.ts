// Glance's rules as the engine's hooks (src/core/rules.ts ProjectRules): cli
// puts glanceRules in every RunContext (ctx.rules), and the engine reaches
// Glance only through them: alembic_version written with each rolling step,
// a database glance-manage made recognised by its bookkeeping, Glance's
// revisions at a version, and the schema forms Glance's tools produced.
import type { ProjectRules } from '../core/rules.js';
import { createAlembicVersionSql } from './bookkeeping.js';
import { detectGlanceManaged } from './detect.js';
import { glanceBookkeeping, headsLetGlanceContract } from './heads.js';
import { revisionsAt } from './revisions.js';
import { allowedBy, contractState, matchVariant, variantById } from './variants.js';
import './words.js';

export const glanceRules: ProjectRules = {
  phaseBookkeeping: (rows, dialect, o) =>
    glanceBookkeeping(rows, dialect, o.hasLegacyTable, o.withCreate, o.manifest, o.rowsLeft),
  letsOtherToolContract: headsLetGlanceContract,
  detect: detectGlanceManaged,
  createBookkeepingTableSql: createAlembicVersionSql,
  revisionsAt,
  variants: { byId: variantById, match: matchVariant, allowedBy, contractState },
};
