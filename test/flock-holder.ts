// An OS lock (flock) held on a file by another process, as another glance-db
// run holds FILE.lock, for the lock tests of sqlite-cli and sqlite-files.
//
// flock(1) runs its command as a child: killing flock alone left that child
// (sleep 60) running with the test's stdout pipe open, so the test file's
// process could not exit until the sleep ended: a minute added to each file
// for nothing (issue 30). The holder runs in a process group of its own, and
// release() ends the whole group and waits until flock is gone, so the lock
// is free when it returns.
import { spawn } from 'node:child_process';

export interface FlockHolder {
  /** Ends flock and its command and resolves once flock has exited (the lock is released). */
  release(): Promise<void>;
}

export async function holdFlock(path: string): Promise<FlockHolder> {
  const child = spawn('flock', ['--close', path, 'sh', '-c', 'echo held; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('error', reject);
  });
  return {
    async release() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // The group is already gone.
      }
      child.stdout.destroy();
      await exited;
    },
  };
}
