import { InvalidArgumentError, Option } from '@commander-js/extra-typings';

/** An option value that must be a whole number of at least 1 (--forks, timeouts). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

/** How every host is reached, overriding the inventory: the same options for `run`, `exec` and `facts`. */
export const userOption = () =>
  new Option('-u, --user <name>', 'connect as this user on every host (overrides the inventory)');
export const privateKeyOption = () =>
  new Option('--private-key <file>', 'SSH private key for every host (overrides the inventory)');
export const becomeOption = () =>
  new Option('-b, --become', 'act as root through sudo -n on every host (overrides the inventory)');
export const connectTimeoutOption = () =>
  new Option('--connect-timeout <s>', 'give up connecting to a host after S seconds')
    .argParser(positiveInt)
    .default(15);
