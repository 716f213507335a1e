import { glanceManageEqual } from './glance-manage-equal.js';
import { postgresEnv } from './dialects.js';

glanceManageEqual(postgresEnv);
