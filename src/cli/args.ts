import { InvalidArgumentError } from '@commander-js/extra-typings';

/** An option value that must be a whole number of at least 1 (--forks, timeouts). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}
