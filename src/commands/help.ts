import { loadHelpClass } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { unknownCommandError } from '../usage.js';

export default class HelpCommand extends BaseCommand {
  static description = 'Show help: the commands, or one command (glance-db help sync, glance-db help db sync).';
  static examples = ['glance-db help', 'glance-db help sync', 'glance-db help db upgrade'];
  static strict = false;
  // No database flags: help never opens anything.
  static baseFlags = {} as typeof BaseCommand.baseFlags;

  async run(): Promise<void> {
    const words = this.argv.filter((a) => !a.startsWith('-'));
    if (words.length && !this.config.findCommand(words.join(':')) && !this.config.findTopic(words.join(':'))) {
      throw unknownCommandError(this.config, words.join(':'));
    }
    const Help = await loadHelpClass(this.config);
    await new Help(this.config).showHelp(words);
  }
}
