import { postgresEnv } from './dialects.js';
import { purgeSuite } from './purge.js';

purgeSuite(postgresEnv);
