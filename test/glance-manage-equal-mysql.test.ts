import { glanceManageEqual } from './glance-manage-equal.js';
import { mysqlEnv } from './dialects.js';

glanceManageEqual(mysqlEnv);
