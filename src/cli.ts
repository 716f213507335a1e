// What bin/run.js starts: oclif, with the commands of src/commands.ts. The
// build bundles this (and commands.ts) into dist/bundle/, so that a run loads
// a few files instead of some 400 modules.
import { execute } from '@oclif/core';

export async function main(): Promise<void> {
  await execute({ dir: import.meta.url });
}
