import { conformance } from './conformance.js';
import { sqliteEnv } from './dialects.js';

// The rolling upgrades on SQLite: test/conformance-rolling-sqlite.test.ts (real processes; not in the fast tier).
conformance(sqliteEnv, { rolling: false });
