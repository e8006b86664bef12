/**
 * POSIX single-quoting for commands run by the remote /bin/sh (dash on Debian).
 * zx's quoting emits bash-only $'...' strings and node-ssh drops empty arguments,
 * so remote commands are quoted here and nowhere else.
 */
export function shq(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote each argument and join them into one command line. */
export function shArgs(args: readonly string[]): string {
  return args.map(shq).join(' ');
}
