// The rolling-upgrade part of the SQLite conformance suite (test/conformance-rolling.ts),
// a file of its own: it runs the CLI as real processes (writers beside a running
// sync, kill -9 mid-batch), so it stays out of npm run test:fast, which has the
// in-process rest of the suite (test/conformance-sqlite.test.ts).
import { suite } from 'uvu';
import { rollingConformance } from './conformance-rolling.js';
import { sqliteEnv } from './dialects.js';

const s = suite(`conformance: ${sqliteEnv.label ?? sqliteEnv.dialect}`);
rollingConformance(s, sqliteEnv);
s.run();
