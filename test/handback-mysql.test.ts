import { handback } from './handback.js';
import { mysqlEnv } from './dialects.js';

handback(mysqlEnv);
