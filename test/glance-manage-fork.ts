// How the tests run the real glance-manage (issue 30): through a fork server
// (test/glance-manage-fork.py) when they can, else as a process.
//
// A glance-manage process spends ~1.3 s of its ~1.4 s CPU importing Glance,
// oslo and Alembic. The fork server, one per test process, started at its
// first glance-manage run and stopped when it exits, runs under the script's
// own interpreter (its shebang), imports what /usr/bin/glance-manage imports
// once, and for each run forks a child that runs the script itself as
// __main__ with the run's argv, cwd, stdout and stderr: the same Glance code
// and entry point, minus the imports. The test stays synchronous: a small
// client (the interpreter with -S, socket imports only) asks the server over
// a Unix socket in a private folder (mkdtemp: mode 0700) and prints the exit
// code. test/glance-manage-equal.ts checks, per dialect, that both ways give the
// same exit codes, stdout and resulting schema.
//
// Real processes instead: with GLANCE_DB_TEST_GLANCE_MANAGE=process, for a
// script other than /usr/bin/glance-manage (GLANCE_DB_GLANCE_MANAGE), a script
// that is not a Python script, a run whose environment differs from the one
// the server started with, and (said on stderr) when the server fails.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

export const REAL_GLANCE_MANAGE = '/usr/bin/glance-manage';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface Server {
  python: string;
  dir: string;
  socket: string;
  pid: number;
  env: string;
}

/** The server (null: not started yet; false: cannot or failed, real processes from then on). */
let server: Server | null | false = null;
let runs = 0;

const CLIENT = `
import os, socket, sys, time
path, pid, req = sys.argv[1], int(sys.argv[2]), sys.argv[3]
while not os.path.exists(path):
    try:
        with open('/proc/%d/stat' % pid) as f:
            gone = f.read().rsplit(')', 1)[1].split()[0] in 'ZX'
    except OSError:
        gone = True
    if gone:
        sys.stdout.write('nostart\\n')
        sys.exit(0)
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(req.encode() + b'\\n')
d = b''
while True:
    c = s.recv(64)
    if not c:
        break
    d += c
sys.stdout.write(d.decode())
`;

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** The Python interpreter of a script's shebang line, if it has one. */
function pythonOf(script: string): string | null {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0];
  const m = /^#!\s*(\/\S*python3(?:\.\d+)?)\s*$/.exec(first);
  return m ? m[1] : null;
}

function start(script: string, forced: boolean): Server | false {
  if (process.env.GLANCE_DB_TEST_GLANCE_MANAGE === 'process' && !forced) return false;
  if (script !== REAL_GLANCE_MANAGE || !existsSync(script)) return false;
  const python = pythonOf(script);
  if (!python) return false;
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-gm-fork-'));
  const socket = join(dir, 'socket');
  const err = openSync(join(dir, 'server.err'), 'w');
  const child = spawn(python, [join(ROOT, 'test', 'glance-manage-fork.py'), script, socket], {
    stdio: ['ignore', 'ignore', err],
  });
  closeSync(err);
  child.on('error', () => {});
  child.unref();
  const pid = child.pid;
  process.on('exit', () => {
    if (pid) kill(pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  if (!pid) return false;
  return { python, dir, socket, pid, env: JSON.stringify(process.env) };
}

/** Gives up on the server, loudly: real processes from now on. */
function fail(s: Server, why: string): void {
  const err = readFileSync(join(s.dir, 'server.err'), 'utf8');
  process.stderr.write(
    `\n*** glance-manage fork server failed (${why}): running ${REAL_GLANCE_MANAGE} as a process from now on ***\n${err}\n`,
  );
  kill(s.pid, 'SIGKILL');
  server = false;
}

function processRun(script: string, args: string[], cwd: string | undefined, timeout: number): Run {
  const r = spawnSync(script, args, { cwd, encoding: 'utf8', timeout });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** One run through the server; null when the server could not answer. */
function forkRun(s: Server, args: string[], cwd: string | undefined, timeout: number): Run | null {
  const n = ++runs;
  const stdout = join(s.dir, `${n}.out`);
  const stderr = join(s.dir, `${n}.err`);
  const request = JSON.stringify({ args, cwd: cwd ?? process.cwd(), stdout, stderr });
  const r = spawnSync(s.python, ['-S', '-c', CLIENT, s.socket, String(s.pid), request], { encoding: 'utf8', timeout });
  const answer = (r.stdout ?? '').trim();
  const exit = /^exit (\d+)$/.exec(answer);
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (!exit && !/^signal \d+$/.test(answer) && !timedOut) {
    fail(s, answer === 'nostart' ? 'it exited before it was ready' : `client: ${answer}${r.stderr ?? ''}`);
    return null;
  }
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  const run = { code: exit ? Number(exit[1]) : -1, stdout: read(stdout), stderr: read(stderr) };
  rmSync(stdout, { force: true });
  rmSync(stderr, { force: true });
  if (timedOut) fail(s, `a run took over ${timeout} ms`);
  return run;
}

/** How a run goes: 'auto' as described above; 'process' or 'fork' forced ('fork' throws without a server). */
export type How = 'auto' | 'process' | 'fork';

/**
 * Runs `script args` (glance-manage) in `cwd`, as spawnSync would: through the
 * fork server when it can, else as a real process. With
 * GLANCE_DB_TEST_SPAWN_LOG set (test/spawn-log.mjs), appends "FILE
 * glance-manage ARGS" to it.
 */
export function runGlanceManage(
  script: string,
  args: string[],
  cwd?: string,
  timeout = 600_000,
  how: How = 'auto',
): Run {
  const log = process.env.GLANCE_DB_TEST_SPAWN_LOG;
  if (log) appendFileSync(log, `${process.env.GLANCE_DB_TEST_SPAWN_PARENT ?? '?'} glance-manage ${args.join(' ')}\n`);
  if (how === 'process') return processRun(script, args, cwd, timeout);
  if (server === null) server = start(script, how === 'fork');
  if (server && script === REAL_GLANCE_MANAGE && (how === 'fork' || server.env === JSON.stringify(process.env))) {
    const run = forkRun(server, args, cwd, timeout);
    if (run) return run;
  }
  if (how === 'fork') throw new Error(`glance-manage ${args.join(' ')}: no fork server (see above)`);
  return processRun(script, args, cwd, timeout);
}
