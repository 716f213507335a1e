import { planGlanceExpand } from './plan-glance-expand.js';
import { sqliteEnv } from './dialects.js';

planGlanceExpand(sqliteEnv);
