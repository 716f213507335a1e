import { sqliteEnv } from './dialects.js';
import { operate } from './operate.js';

operate(sqliteEnv);
