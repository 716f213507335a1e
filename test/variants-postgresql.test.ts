import { postgresEnv } from './dialects.js';
import { variants } from './variants.js';

variants(postgresEnv);
