import { mysqlEnv } from './dialects.js';
import { osloCommandLines } from './oslo.js';

osloCommandLines(mysqlEnv).run();
