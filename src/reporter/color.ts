/**
 * Whether output is coloured: never with NO_COLOR (no-color.org) or --no-color, always with
 * FORCE_COLOR (other than 0), else when stdout is a terminal.
 */
export function useColor(
  flag = true,
  env: NodeJS.ProcessEnv = process.env,
  tty = process.stdout.isTTY,
): boolean {
  if (!flag || (env['NO_COLOR'] ?? '') !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0';
  return tty;
}
