import { planGlanceExpand } from './plan-glance-expand.js';
import { mysqlEnv } from './dialects.js';

planGlanceExpand(mysqlEnv);
