import { mysqlEnv } from './dialects.js';
import { planted } from './planted.js';

planted(mysqlEnv);
