import { handbackPhases } from './handback-phases.js';
import { sqliteEnv } from './dialects.js';

handbackPhases(sqliteEnv);
