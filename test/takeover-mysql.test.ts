import { mysqlEnv } from './dialects.js';
import { takeover } from './takeover.js';

takeover(mysqlEnv);
