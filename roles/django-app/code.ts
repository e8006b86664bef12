/** The project's code on the controller: its tree (what to copy) and one hash of it (when to migrate). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, sha256 } from 'fleetbook';

export interface ProjectTree {
  /** Relative to the code directory: directories first (parents before children), then files. */
  readonly dirs: readonly string[];
  readonly files: readonly string[];
}

/** Walked once per run and directory: every host deploys the same tree. */
const trees = new Map<string, ProjectTree>();
const hashes = new Map<string, string>();

export function projectTree(root: string, project: string): ProjectTree {
  const known = trees.get(root);
  if (known !== undefined) return known;
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(path.join(root, rel)).sort();
    } catch {
      throw new ConfigError(
        `code: ${path.relative(process.cwd(), root) || '.'}/ must hold the code of "${project}" (manage.py and the ${project} package)`,
        { field: 'code' },
      );
    }
    for (const name of names) {
      if (name === '__pycache__' || name.endsWith('.pyc') || name.startsWith('.')) continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      if (statSync(path.join(root, r)).isDirectory()) {
        dirs.push(r);
        walk(r);
      } else files.push(r);
    }
  };
  walk('');
  const tree = { dirs, files };
  trees.set(root, tree);
  return tree;
}

/** sha256 over `sha256  file` lines of the tree, as `sha256sum` would list them. */
export function codeHash(root: string, project: string): string {
  let h = hashes.get(root);
  if (h === undefined) {
    const lines = projectTree(root, project).files.map(
      (f) => `${sha256(readFileSync(path.join(root, f)))}  ${f}\n`,
    );
    h = sha256(lines.join(''));
    hashes.set(root, h);
  }
  return h;
}
