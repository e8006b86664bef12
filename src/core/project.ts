import { existsSync } from 'node:fs';
import path, { dirname, join, resolve } from 'node:path';

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

/** Where templates live: `$FLEETBOOK_TEMPLATES`, else `templates/` in the project. Read on every call so tests can point it elsewhere. */
export function templatesRoot(): string {
  const fromEnv = process.env['FLEETBOOK_TEMPLATES'];
  return path.resolve(
    fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(projectRoot(), 'templates'),
  );
}
