import { mysqlEnv } from './dialects.js';
import { metadefsSuite } from './metadefs.js';

metadefsSuite(mysqlEnv);
