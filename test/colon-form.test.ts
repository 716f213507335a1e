// Every command reachable under a colon-joined name (completion offers
// `db metadefs:export`), typed in every mix of spaces and colons, gets the
// words that follow it. oclif (topicSeparator " ") counted the colons of the
// id it found instead of the words it had used, and dropped as many words
// after the command: `db metadefs:export PATH` wrote into the default
// /etc/glance/metadefs, `db metadefs:unload --yes` lost --yes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import { commandIdFirst } from '../src/cli/cli.js';
import { cliAsync, ROOT, runCli } from './helpers.js';

/** Every way of typing an id's segments as words: each gap a space or a colon. */
function spellings(id: string): string[][] {
  const parts = id.split(':');
  const out: string[][] = [];
  for (let mask = 0; mask < 2 ** (parts.length - 1); mask++) {
    const words = [parts[0]];
    for (let i = 1; i < parts.length; i++) {
      if (mask & (2 ** (i - 1))) words[words.length - 1] += `:${parts[i]}`;
      else words.push(parts[i]);
    }
    out.push(words);
  }
  return out;
}

const config = await Config.load(ROOT);
const colonIds = config.commands.map((c) => c.id).filter((id) => id.includes(':'));

test('commandIdFirst: every spelling of every command id becomes the id, and the words after it stay, a colon in them included', () => {
  assert.ok(colonIds.includes('db:metadefs:export') && colonIds.includes('db:purge_images_table'), colonIds.join(' '));
  for (const id of config.commands.map((c) => c.id)) {
    for (const words of spellings(id)) {
      assert.equal(commandIdFirst(config, [...words, 'C:/x', '--yes']), [id, 'C:/x', '--yes'], words.join(' '));
    }
  }
  // Not a command: left as typed, for the unknown-command answer.
  assert.equal(commandIdFirst(config, ['nope:x', 'y']), ['nope:x', 'y']);
});

test('CLI: every colon-form spelling of every command passes its positional argument (or refuses an extra one), its flags, and --help', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glance-db-colon-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const missing = join(dir, 'missing');
  const url = `sqlite:${join(dir, 'none.sqlite')}`;
  try {
    const cases: { args: string[]; code: number; text: string }[] = [];
    for (const id of colonIds) {
      const cmd = config.findCommand(id)!;
      const args = Object.keys(cmd.args ?? {});
      for (const words of spellings(id)) {
        if (words.length === 1 && !words[0].includes(':')) continue;
        if (args[0] === 'path' && /export/.test(id))
          cases.push({ args: [...words, file, '--url', url], code: 28, text: `${file} is not a folder` });
        else if (args[0] === 'path')
          cases.push({
            args: [...words, missing, '--url', url],
            code: 28,
            text: `The metadefs path ${missing} does not exist`,
          });
        else if (args[0] === 'version')
          cases.push({ args: [...words, 'abc', '--url', url], code: 2, text: 'not "abc"' });
        else cases.push({ args: [...words, 'extra', '--url', url], code: 2, text: '"extra"' });
        if (/unload/.test(id))
          cases.push({ args: [...words, '--yes', '--url', url], code: 5, text: 'not under glance-db version control' });
        cases.push({ args: [...words, '--help'], code: 0, text: 'USAGE' });
      }
    }
    assert.ok(cases.length > 60, String(cases.length));
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      // The first batch as real processes (exit code and stdout/stderr split are the contract), the rest in process.
      const results = await Promise.all(batch.map((c) => (i === 0 ? cliAsync(c.args) : runCli(c.args))));
      batch.forEach((c, j) => {
        const r = results[j];
        const shown = `glance-db ${c.args.join(' ')}: exit ${r.code}\n${r.stdout.slice(0, 300)}${r.stderr}`;
        assert.is(r.code, c.code, shown);
        assert.ok((r.stdout + r.stderr).includes(c.text), shown);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
