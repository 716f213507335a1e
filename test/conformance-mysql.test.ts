import { conformance } from './conformance.js';
import { mysqlEnv } from './dialects.js';

conformance(mysqlEnv);
