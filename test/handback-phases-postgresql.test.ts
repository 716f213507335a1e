import { handbackPhases } from './handback-phases.js';
import { postgresEnv } from './dialects.js';

handbackPhases(postgresEnv);
