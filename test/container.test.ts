// The Dockerfile and the init-container example of docs/guide/containers.md (issue 21 item 7).
// Where a container runtime works, the image is built and its sync run
// against PostgreSQL. Where none does (this machine: no Docker daemon), the
// Dockerfile is checked line by line and the same steps run from the
// tarball, as the image's unprivileged user; the test says which it did.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './helpers.js';
import { postgresEnv } from './dialects.js';
import { closedPort } from './servers.js';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions: comments dropped, backslash continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    pending += `${line.replace(/\\$/, '').trim()} `;
    if (line.endsWith('\\')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(pending.trim());
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    pending = '';
  }
  return out;
}

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerUsable = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 20_000 }).status === 0;

test('the Dockerfile: Node 24 base, the dump tools from the distribution, the packed tarball installed offline, a non-root user, exec-form entry point', () => {
  const from = dockerfile.filter((i) => i.op === 'FROM');
  assert.is(from.length, 1, 'one stage');
  const m = /^node:(\d+)-(alpine|slim)$/.exec(from[0].args);
  assert.ok(m, `base image ${from[0].args}: node:<major>-alpine or -slim`);
  assert.is(Number(m![1]), 24, 'Node.js 24 LTS, the runtime glance-db is built and tested on');
  const arg = dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('TARBALL='));
  assert.is(arg?.args, `TARBALL=glance-db-${version}.tgz`, 'the tarball npm run package makes for this version');
  assert.ok(!dockerfile.some((i) => i.op === 'ADD'), 'COPY only (ADD can fetch URLs)');
  const runs = dockerfile.filter((i) => i.op === 'RUN');
  // The one download: the distribution's own client packages, which bring the dump tools --backup runs.
  const apk = runs.filter((r) => /\bapk\b/.test(r.args));
  assert.equal(
    apk.map((r) => r.args),
    ['apk add --no-cache postgresql-client mariadb-client'],
    'pg_dump and mariadb-dump for --backup',
  );
  for (const r of runs.filter((x) => !apk.includes(x))) {
    assert.not.match(r.args, /\b(curl|wget|apk|apt-get|git|pip)\b/, `RUN fetches nothing: ${r.args}`);
    for (const npm of r.args.split('&&').filter((c) => /\bnpm install\b/.test(c)))
      assert.match(npm, /--offline/, `npm install offline: ${npm}`);
  }
  const userIndex = dockerfile.findIndex((i) => i.op === 'USER');
  assert.ok(userIndex > dockerfile.findIndex((i) => i.op === 'RUN'), 'USER after the install');
  assert.not.match(dockerfile[userIndex].args, /^(root|0)(:|$)/, 'not root');
  assert.ok(!dockerfile.some((i) => i.op === 'EXPOSE'), 'listens on nothing');
  assert.is(dockerfile.find((i) => i.op === 'ENTRYPOINT')?.args, '["glance-db"]');
  assert.ok(
    dockerfile.slice(userIndex).every((i) => i.op !== 'RUN'),
    'nothing runs as root after USER',
  );
});

test(`the image's steps and docs/guide/containers.md's init-container command, ${dockerUsable ? 'in Docker' : 'from the tarball (no container runtime here)'}, against PostgreSQL`, async () => {
  if (!postgresEnv.available()) {
    if (process.env.GLANCE_DB_REQUIRE_SERVERS) assert.unreachable('PostgreSQL required');
    return console.log('  SKIP: PostgreSQL not reachable');
  }
  if (!dockerUsable)
    console.log(
      '  docker not usable here: running the Dockerfile steps from the tarball as an unprivileged user instead',
    );
  const page = readFileSync(join(ROOT, 'docs', 'guide', 'containers.md'), 'utf8');
  // The release of the Glance the pod runs, in both commands (issue 28 item 2): a newer glance-db image must not go past it.
  const m = /^ {6}- (glance-db check (\S+) --glance-config \S+ \|\| glance-db sync (\S+) --glance-config \S+)$/m.exec(
    page,
  );
  assert.ok(m, "docs/guide/containers.md's init-container command");
  assert.is(m![3], m![2], 'check and sync name the same release');
  const example = m![1];
  const at = m![2] === 'zed' ? 50 : Number.NaN;
  assert.is(at, 50, 'the example names zed');
  const work = mkdtempSync(join(tmpdir(), 'glance-db-container-'));
  chmodSync(work, 0o755);
  const db = await postgresEnv.create();
  try {
    // The tarball alone: the image installs it; the single executable is test/airgap's (issue 30).
    const pack = spawnSync(process.execPath, [join(ROOT, 'scripts/package.mjs'), '--out', work, '--no-executable'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.is(pack.status, 0, pack.stderr);
    const tarball = /^tarball: (.*)$/m.exec(pack.stdout)![1];
    assert.is(tarball, join(work, `glance-db-${version}.tgz`), 'the name the Dockerfile copies');
    const etc = join(work, 'etc-glance');
    mkdirSync(etc);
    writeFileSync(
      join(etc, 'glance-api.conf'),
      `[DEFAULT]\ndebug = false\n[database]\nconnection = ${db.url.replace(/^postgresql:/, 'postgresql+psycopg2:')}\n`,
    );
    chmodSync(join(etc, 'glance-api.conf'), 0o644);
    const command = example.replaceAll('/etc/glance/glance-api.conf', join(etc, 'glance-api.conf'));
    let run: (args: string[]) => { status: number | null; stdout: string; stderr: string };
    if (dockerUsable) {
      const build = spawnSync(
        'docker',
        ['build', '-t', `glance-db-test:${version}`, '-f', join(ROOT, 'Dockerfile'), work],
        { encoding: 'utf8' },
      );
      assert.is(build.status, 0, build.stderr);
      run = (args) =>
        spawnSync('docker', ['run', '--rm', '--network', 'host', '-v', `${etc}:${etc}:ro`, ...args], {
          encoding: 'utf8',
        });
      const sh = run(['--entrypoint', '/bin/sh', `glance-db-test:${version}`, '-c', command]);
      assert.is(sh.status, 0, sh.stderr);
    } else {
      // The RUN step, with the Dockerfile's own flags, into a prefix; the registry a dead port.
      const install = dockerfile
        .find((i) => i.op === 'RUN' && /\bnpm install\b/.test(i.args))!
        .args.split('&&')[0]
        .trim()
        .split(/\s+/)
        .map((w) => (w === '/tmp/glance-db.tgz' ? tarball : w));
      assert.equal(install.slice(0, 4), ['npm', 'install', '-g', '--offline']);
      const prefix = join(work, 'prefix');
      const res = spawnSync(
        install[0],
        [
          ...install.slice(1),
          '--prefix',
          prefix,
          '--cache',
          join(work, 'cache'),
          '--registry',
          `http://127.0.0.1:${await closedPort()}/`,
        ],
        { encoding: 'utf8' },
      );
      assert.is(res.status, 0, res.stderr);
      const home = join(work, 'home');
      mkdirSync(home);
      // USER: an unprivileged uid when the tests run as root; WORKDIR: an empty folder.
      const asUser =
        process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
      chmodSync(home, 0o777);
      // The Node running the tests first: the image's node, as far as the unprivileged user can see (not the machine's own, which may be older).
      // No Glance beside it, as in the image (the machine's own, if any, is not looked at).
      const env = {
        PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:${process.env.PATH}`,
        HOME: home,
        GLANCE_DB_GLANCE_CONFIG_DIRS: '',
        GLANCE_DB_GLANCE_SITE_PACKAGES: '',
      };
      run = (args) => {
        const [cmd, ...rest] = [...asUser, ...args];
        return spawnSync(cmd, rest, { cwd: home, env, encoding: 'utf8' });
      };
      // CMD ["check"] with nothing mounted: the database is not named.
      const bare = run(['glance-db', 'check']);
      assert.is(bare.status, 3, bare.stderr);
      const first = run(['/bin/sh', '-c', command]);
      assert.is(first.status, 0, first.stderr);
      assert.match(first.stdout, /not under version control/);
      assert.match(first.stdout, `database is at version ${at}`);
      assert.match(first.stderr, `progress: applying ${at} add_tasks_image_request_user`);
      assert.not.match(first.stderr, `applying ${at + 1} `, 'nothing past the installed Glance');
      const again = run(['/bin/sh', '-c', command]);
      assert.is(again.status, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`^current: at version ${at}$`, 'm'));
      assert.not.match(again.stdout, 'applied');
    }
    assert.equal(await db.rows('SELECT max(version) AS v FROM glance_db_version'), [{ v: at }]);
  } finally {
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
