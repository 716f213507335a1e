// The conformance suite on the Galera cluster: glance-db runs against node 2
// while the test creates, fills and loads databases through node 1; every
// database is compared on all three nodes (schema, version table, row counts)
// before it is dropped.
import { galeraEnv } from './cluster.js';
import { conformance } from './conformance.js';

conformance(galeraEnv(1));
