import { stuck } from './stuck.js';
import { mysqlEnv } from './dialects.js';

stuck(mysqlEnv);
