import { postgresEnv } from './dialects.js';
import { planted } from './planted.js';

planted(postgresEnv);
