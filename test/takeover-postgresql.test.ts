import { postgresEnv } from './dialects.js';
import { takeover } from './takeover.js';

takeover(postgresEnv);
