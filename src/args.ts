// Positional version arguments: whole numbers, checked here so that "abc" or
// "45.5" gets a usage error naming the argument. Arguments come from the
// command line only: oclif would otherwise read a piped standard input as a
// missing positional argument (`echo 44 | glance-db sync` stopping at 44,
// `< file` echoing the file in the error).
import { Args } from '@oclif/core';
import { UsageError } from './errors.js';

export const versionArg = (name: string, description: string, required = false) =>
  Args.custom<number>({
    description,
    required,
    ignoreStdin: true,
    async parse(input: string) {
      if (!/^\d{1,9}$/.test(input.trim())) throw new UsageError(`${name} must be a whole number such as 51, not "${input}".`);
      return Number(input.trim());
    },
  })();
