import { conformance } from './conformance.js';
import { sqliteEnv } from './dialects.js';

conformance(sqliteEnv);
