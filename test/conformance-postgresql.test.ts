import { conformance } from './conformance.js';
import { postgresEnv } from './dialects.js';

conformance(postgresEnv);
