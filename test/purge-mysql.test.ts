import { mysqlEnv } from './dialects.js';
import { purgeSuite } from './purge.js';

purgeSuite(mysqlEnv);
