import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The user's project: the nearest directory holding a package.json, above the playbook when one
 * is loaded, else above the working directory. Templates, copyFile sources and the state
 * directory are found from here, so `fleetbook run` works from any directory of the project.
 */
let loadedFrom: string | undefined;

export function findProjectRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/** Called once the playbook file is known: its project becomes the one every relative path means. */
export function useProjectOf(file: string): void {
  loadedFrom = findProjectRoot(dirname(resolve(file)));
}

export function projectRoot(): string {
  return loadedFrom ?? findProjectRoot(process.cwd());
}
