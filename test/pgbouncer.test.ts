// The conformance suite through PgBouncer in transaction pooling mode (its
// eight-syncs-at-once test included): nothing glance-db does may rely on
// session state, since consecutive transactions may reach different server
// connections.
import { conformance } from './conformance.js';
import { pgbouncerEnv } from './cluster.js';

conformance(pgbouncerEnv());
