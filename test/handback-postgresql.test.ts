import { handback } from './handback.js';
import { postgresEnv } from './dialects.js';

handback(postgresEnv);
