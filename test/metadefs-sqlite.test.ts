import { sqliteEnv } from './dialects.js';
import { metadefsSuite } from './metadefs.js';

metadefsSuite(sqliteEnv);
