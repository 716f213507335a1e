import { stuck } from './stuck.js';
import { sqliteEnv } from './dialects.js';

stuck(sqliteEnv);
