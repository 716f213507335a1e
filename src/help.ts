// oclif's help with what glance-db adds: the `db` topic in the top-level help
// (oclif lists a topic only when it has sub-topics) and the exit codes after
// every help text. package.json's oclif.helpClass points at the bundled copy.
import { Help } from '@oclif/core';
import { exitCodeRows } from './exit-codes.js';

export default class GlanceDbHelp extends Help {
  private exitCodes(): string {
    return this.section('EXIT CODES', exitCodeRows().map(([code, meaning]) => [code, meaning] as [string, string]));
  }

  protected async showRootHelp(): Promise<void> {
    await super.showRootHelp();
    const db = this.config.topics.find((t) => t.name === 'db');
    if (db) this.log(`${this.section('TOPICS', [['db', db.description ?? '']])}\n`);
    this.log(`${this.section('MORE', [['help [COMMAND]', 'this help, or one command\'s (glance-db help db sync; glance-db COMMAND --help)'], ['completion bash|zsh', 'a shell completion script (eval "$(glance-db completion zsh)")']])}\n`);
    this.log(`${this.section('README', 'README.md of the package has every detail.')}\n`);
    this.log(`${this.exitCodes()}\n`);
  }

  async showCommandHelp(command: Parameters<Help['showCommandHelp']>[0]): Promise<void> {
    await super.showCommandHelp(command);
    this.log(`${this.exitCodes()}\n`);
  }
}
