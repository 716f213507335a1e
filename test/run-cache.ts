// The end of a run of test/run.mjs: drops the starting states its test files
// built and shared (test/glance-manage.ts writes a KEY.drop file for each:
// the dialect and URL of the database), then removes the run's cache folder.
// test/run.mjs runs `node dist/test/run-cache.js DIR` once every file ended.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dbName } from './clone-db.js';
import { dropDatabase } from './servers.js';

export function dropRunCache(dir: string): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.drop'))) {
    const { dialect, url } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { dialect: string; url: string };
    try {
      if (dialect === 'sqlite') rmSync(dirname(dbName({ url })), { recursive: true, force: true });
      else dropDatabase(dialect as 'postgresql' | 'mysql', dbName({ url }));
    } catch (err) {
      console.error(`run cache: could not drop ${url}: ${(err as Error).message}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] && process.argv[1]?.endsWith('run-cache.js')) dropRunCache(process.argv[2]);
