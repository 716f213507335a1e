import { sqliteEnv } from './dialects.js';
import { takeover } from './takeover.js';

takeover(sqliteEnv);
