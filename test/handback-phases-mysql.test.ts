import { handbackPhases } from './handback-phases.js';
import { mysqlEnv } from './dialects.js';

handbackPhases(mysqlEnv);
