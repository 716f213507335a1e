// Positional version arguments: whole numbers, checked here so that "abc" or
// "45.5" gets a usage error naming the argument.
import { Args } from '@oclif/core';
import { UsageError } from './errors.js';

export const versionArg = (name: string, description: string, required = false) =>
  Args.custom<number>({
    description,
    required,
    async parse(input: string) {
      if (!/^\d{1,9}$/.test(input.trim())) throw new UsageError(`${name} must be a whole number such as 51, not "${input}".`);
      return Number(input.trim());
    },
  })();
