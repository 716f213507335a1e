import { sqliteEnv } from './dialects.js';
import { planted } from './planted.js';

planted(sqliteEnv);
