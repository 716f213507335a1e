import { postgresEnv } from './dialects.js';
import { operate } from './operate.js';

operate(postgresEnv);
