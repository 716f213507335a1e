import { postgresEnv } from './dialects.js';
import { osloCommandLines } from './oslo.js';

osloCommandLines(postgresEnv).run();
