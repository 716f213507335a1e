import { sqliteEnv } from './dialects.js';
import { variants } from './variants.js';

variants(sqliteEnv);
