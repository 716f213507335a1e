// oclif's help with what glance-db adds: the `db` topic in the top-level help
// (oclif lists a topic only when it has sub-topics) and the exit codes after
// every help text. package.json's oclif.helpClass points at the bundled copy.
import { Help } from '@oclif/core';
import { exitCodeRows } from '../platform/exit-codes.js';

/** The two commands cli.ts answers itself rather than oclif; here for the help, the reference page and the man page (src/cli/reference.ts). */
export const BUILTIN_COMMANDS = [
  {
    name: 'help',
    usage: 'help [COMMAND]',
    description: "this help, or one command's (glance-db help db sync; glance-db COMMAND --help)",
  },
  {
    name: 'completion',
    usage: 'completion bash|zsh',
    description: 'a shell completion script (eval "$(glance-db completion zsh)")',
  },
] as const;

export default class GlanceDbHelp extends Help {
  private exitCodes(): string {
    return this.section(
      'EXIT CODES',
      exitCodeRows().map(([code, meaning]) => [code, meaning] as [string, string]),
    );
  }

  protected async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    const db = this.config.topics.find((t) => t.name === 'db');
    if (db) this.log(`${this.section('TOPICS', [['db', db.description ?? '']])}\n`);
    this.log(
      `${this.section(
        'MORE',
        BUILTIN_COMMANDS.map((b) => [b.usage, b.description] as [string, string]),
      )}\n`,
    );
    this.log(
      `${this.section('DOCUMENTATION', 'man glance-db, and docs/ in the package: docs/README.md lists every page, docs/reference/commands.md every command and flag.')}\n`,
    );
    this.log(`${this.exitCodes()}\n`);
  }

  async showCommandHelp(command: Parameters<Help['showCommandHelp']>[0]): Promise<void> {
    await super.showCommandHelp(command);
    this.log(`${this.exitCodes()}\n`);
  }
}
