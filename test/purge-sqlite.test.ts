import { sqliteEnv } from './dialects.js';
import { purgeSuite } from './purge.js';

purgeSuite(sqliteEnv);
