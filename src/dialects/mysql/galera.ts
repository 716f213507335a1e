// MariaDB Galera (and MySQL) checks made before glance-db changes anything,
// and the bounded retry of a data statement that lost Galera certification.
//
// On a Galera node, DDL replicates under Total Order Isolation (TOI) only when
// wsrep_OSU_method is TOI; under RSU it changes this node alone and the
// cluster's schemas diverge. A node that is not Synced (joining, donor,
// desynced) or not in the Primary component must not be migrated either.
// Trigger and function DDL needs log_bin_trust_function_creators or SUPER
// wherever the binary log is on, and on Galera even without it.
import { GlanceDbError } from '../../platform/errors.js';
import type { Query } from '../../core/introspect/model.js';

/** Exit 32: the server is not in a state glance-db can change safely; nothing was changed. */
export class PreflightError extends GlanceDbError {
  constructor(message: string, hint: string, fields: Record<string, unknown> = {}) {
    super('PREFLIGHT', `${message} Nothing was changed.`, { hint, fields });
  }
}

export interface ServerSettings {
  /** wsrep provider loaded and wsrep_on: a Galera node. */
  galera: boolean;
  /** The provider is loaded (a cluster node), whatever wsrep_on says. */
  provider: boolean;
  wsrepOn: boolean;
  osuMethod: string;
  desync: boolean;
  localState: string;
  clusterStatus: string;
  logBin: boolean;
  trustFunctionCreators: boolean;
  /** The user holds SUPER, which lets it create triggers and functions anyway; asked (readSuperUser) only when needsSuperUser. */
  superUser?: boolean;
  node: string;
}

const on = (v: unknown) => /^(on|1|yes|true)$/i.test(String(v ?? ''));

export async function readSettings(query: Query): Promise<ServerSettings> {
  const vars = Object.fromEntries(
    (
      await query(
        "SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_provider', 'wsrep_osu_method', 'wsrep_desync', 'log_bin', 'log_bin_trust_function_creators', 'wsrep_node_name', 'hostname', 'port')",
      )
    ).map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? '')]),
  );
  const provider = (vars.wsrep_provider ?? 'none').toLowerCase() !== 'none' && (vars.wsrep_provider ?? '') !== '';
  const wsrepOn = on(vars.wsrep_on);
  // The node's state matters on a Galera node only (preflight): a plain server is not asked (a round trip of every run).
  const status =
    provider && wsrepOn
      ? Object.fromEntries(
          (await query("SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status')")).map(
            (r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? '')],
          ),
        )
      : {};
  return {
    galera: provider && wsrepOn,
    provider,
    wsrepOn,
    osuMethod: (vars.wsrep_osu_method ?? 'TOI').toUpperCase(),
    desync: on(vars.wsrep_desync),
    localState: status.wsrep_local_state_comment ?? '',
    clusterStatus: status.wsrep_cluster_status ?? '',
    logBin: on(vars.log_bin),
    trustFunctionCreators: on(vars.log_bin_trust_function_creators),
    node: vars.wsrep_node_name || `${vars.hostname ?? '?'}:${vars.port ?? '?'}`,
  };
}

/** Whether preflight must know if the user holds SUPER: a pending statement creates a routine the server may refuse. */
export function needsSuperUser(s: ServerSettings, statements: string[]): boolean {
  return (s.logBin || s.galera) && !s.trustFunctionCreators && statements.some(createsRoutine);
}

export async function readSuperUser(query: Query): Promise<boolean> {
  const grants = await query(
    "SELECT 1 AS s FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SUPER' AND GRANTEE = CONCAT(\"'\", SUBSTRING_INDEX(CURRENT_USER(), '@', 1), \"'@'\", SUBSTRING_INDEX(CURRENT_USER(), '@', -1), \"'\")",
  );
  return grants.length > 0;
}

/**
 * At connect: a Galera node outside the Primary component (wsrep_ready OFF)
 * refuses every query, or, with causal reads, makes each wait until it
 * times out; say so at once instead. Returns whether the node is a Galera
 * node, so the caller can turn causal reads on.
 */
export async function checkNodeReady(query: Query): Promise<boolean> {
  const vars = Object.fromEntries(
    (await query("SHOW VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_provider', 'wsrep_node_name')")).map(
      (r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? '')],
    ),
  );
  if (!on(vars.wsrep_on) || !vars.wsrep_provider || vars.wsrep_provider.toLowerCase() === 'none') return false;
  const status = Object.fromEntries(
    (
      await query(
        "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment')",
      )
    ).map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? '')]),
  );
  if (!on(status.wsrep_ready) || (status.wsrep_cluster_status && status.wsrep_cluster_status !== 'Primary')) {
    throw new PreflightError(
      `The Galera node "${vars.wsrep_node_name || '?'}" is not in the Primary component (wsrep_cluster_status = ${status.wsrep_cluster_status || 'unknown'}, wsrep_ready = ${status.wsrep_ready || 'unknown'}, state ${status.wsrep_local_state_comment || 'unknown'}): it has lost quorum and refuses queries.`,
      'Restore the cluster (bring back enough nodes for quorum, or bootstrap the most advanced node with pc.bootstrap=YES), then point glance-db at a node whose wsrep_cluster_status is Primary.',
      { check: 'wsrep_cluster_status', value: status.wsrep_cluster_status },
    );
  }
  return true;
}

/** CREATE TRIGGER / FUNCTION / PROCEDURE, with or without DEFINER and OR REPLACE. */
const CREATES_ROUTINE =
  /^\s*create\s+(or\s+replace\s+)?(definer\s*=\s*\S+\s+)?(aggregate\s+)?(trigger|function|procedure)\b/i;

export function createsRoutine(statement: string): boolean {
  return CREATES_ROUTINE.test(statement.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*/, ''));
}

/**
 * Refuses, before anything changes, a node that would not replicate the
 * upgrade to the rest of its cluster or would fail half way through it.
 * `statements` are those the run may execute (the pending versions').
 */
export function preflight(s: ServerSettings, statements: string[]): void {
  const node = `node "${s.node}"`;
  if (s.provider && !s.wsrepOn) {
    throw new PreflightError(
      `The Galera ${node} has wsrep_on = OFF: glance-db's changes would not replicate to the other nodes.`,
      'Run glance-db with wsrep_on = ON (SET GLOBAL wsrep_on = ON, and no SET SESSION wsrep_on = OFF in init_connect).',
      { check: 'wsrep_on' },
    );
  }
  if (s.galera) {
    if (s.clusterStatus && s.clusterStatus !== 'Primary') {
      throw new PreflightError(
        `The Galera ${node} is not in the Primary component (wsrep_cluster_status = ${s.clusterStatus}): it has lost quorum and refuses or cannot replicate changes.`,
        'Restore the cluster (bring back enough nodes for quorum, or bootstrap the most advanced node with pc.bootstrap=YES), then point glance-db at a node whose wsrep_cluster_status is Primary.',
        { check: 'wsrep_cluster_status', value: s.clusterStatus },
      );
    }
    if (s.desync) {
      throw new PreflightError(
        `The Galera ${node} has wsrep_desync = ON: it is cut off from flow control and may lag the cluster, so glance-db will not change the schema through it.`,
        'Run SET GLOBAL wsrep_desync = OFF on that node and wait until wsrep_local_state_comment is Synced, or point glance-db at another node.',
        { check: 'wsrep_desync' },
      );
    }
    if (s.localState !== 'Synced') {
      throw new PreflightError(
        `The Galera ${node} is not Synced (wsrep_local_state_comment = ${s.localState || 'unknown'}): it is joining, donating a state transfer or desynced.`,
        "Wait until SHOW STATUS LIKE 'wsrep_local_state_comment' says Synced on that node, or point glance-db at a Synced node.",
        { check: 'wsrep_local_state_comment', value: s.localState },
      );
    }
    if (s.osuMethod !== 'TOI') {
      throw new PreflightError(
        `The Galera ${node} has wsrep_OSU_method = ${s.osuMethod}: schema changes would apply to this node only (Rolling Schema Upgrade) and the cluster's schemas would diverge.`,
        "glance-db needs Total Order Isolation: run SET GLOBAL wsrep_OSU_method = 'TOI' (and remove any SET SESSION wsrep_OSU_method from init_connect), then rerun.",
        { check: 'wsrep_OSU_method', value: s.osuMethod },
      );
    }
  }
  const routine = statements.find(createsRoutine);
  if (routine && (s.logBin || s.galera) && !s.trustFunctionCreators && !s.superUser) {
    const what = /trigger/i.test(routine.slice(0, 80)) ? 'a trigger' : 'a stored function or procedure';
    throw new PreflightError(
      `A pending version creates ${what}, which ${s.galera ? 'a Galera node' : 'a server with the binary log on'} refuses from a user without SUPER while log_bin_trust_function_creators is OFF; it would fail half way through the upgrade.`,
      'Run SET GLOBAL log_bin_trust_function_creators = ON on every node (and put log_bin_trust_function_creators = ON in the server configuration), or run glance-db as a user with SUPER.',
      { check: 'log_bin_trust_function_creators' },
    );
  }
}

/** The error numbers of a lost Galera certification (and of an InnoDB deadlock, which has the same remedy). */
export const CERTIFICATION_FAILURE = 1213;

export interface RetryOptions {
  /** Attempts in all, the first one included. */
  attempts: number;
  /** Wait before the second attempt; doubled each time. */
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, err: unknown) => void;
}

export const CERTIFICATION_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 250 };

/** Thrown when every attempt lost certification; the last error is the cause. */
export class CertificationFailed extends Error {
  readonly errno = CERTIFICATION_FAILURE;
  constructor(
    readonly attempts: number,
    readonly last: unknown,
  ) {
    super(
      `${(last as Error)?.message?.split('\n')[0] ?? String(last)} (error 1213, a Galera certification failure or deadlock: a conflicting write to the same rows, probably committed on another node; tried ${attempts} times)`,
    );
  }
}

/**
 * Runs one data transaction; when it fails with error 1213 (the whole
 * transaction was rolled back by the server), rolls back and runs it again
 * after a growing pause, at most `attempts` times in all.
 */
export async function retryCertification<T>(
  run: () => Promise<T>,
  rollback: () => Promise<void>,
  opts: RetryOptions = CERTIFICATION_RETRY,
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if ((err as { errno?: number }).errno !== CERTIFICATION_FAILURE) throw err;
      await rollback().catch(() => {});
      if (attempt >= opts.attempts) throw new CertificationFailed(attempt, err);
      opts.onRetry?.(attempt, err);
      await sleep(opts.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}
