import { handback } from './handback.js';
import { sqliteEnv } from './dialects.js';

handback(sqliteEnv);
