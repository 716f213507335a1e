import { mysqlEnv } from './dialects.js';
import { variants } from './variants.js';

variants(mysqlEnv);
