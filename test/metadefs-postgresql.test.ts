import { postgresEnv } from './dialects.js';
import { metadefsSuite } from './metadefs.js';

metadefsSuite(postgresEnv);
