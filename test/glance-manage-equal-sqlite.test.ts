import { glanceManageEqual } from './glance-manage-equal.js';
import { sqliteEnv } from './dialects.js';

glanceManageEqual(sqliteEnv);
