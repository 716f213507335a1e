import { stuck } from './stuck.js';
import { postgresEnv } from './dialects.js';

stuck(postgresEnv);
