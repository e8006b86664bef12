import { homedir } from 'node:os';
import { isAbsolute, relative } from 'node:path';

/** A path as a user would type it: relative to the working directory when inside it, else absolute. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
}

/** `~` and `~/x` are the controller user's home, as a shell (and OpenSSH) would read them. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path;
}
