import { mysqlEnv } from './dialects.js';
import { operate } from './operate.js';

operate(mysqlEnv);
