import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { ConfigError } from '../core/errors.ts';
import { displayPath } from '../core/paths.ts';
import { scaffold } from '../init/scaffold.ts';

/** A package name npm accepts, from the directory's name. */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '');
  return name === '' ? 'fleet' : name;
}

/** Write the scaffold into `dir`; refuses, writing nothing, when any of its files exists. */
export async function initProject(dir: string, version: string): Promise<string[]> {
  const root = resolve(dir);
  const { files } = scaffold(packageName(root), version);
  const taken = files.map(([p]) => p).filter((p) => existsSync(join(root, p)));
  if (taken.length > 0)
    throw new ConfigError(
      `${displayPath(root)} already has ${taken.join(', ')}: fleetbook init writes only new files (nothing was written)`,
    );
  for (const [p, content] of files) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), content, { flag: 'wx' });
  }
  return files.map(([p]) => p);
}

export function initCommand(version: string): Command<[string | undefined]> {
  return new Command('init')
    .description(
      'start a fleetbook project: package.json, tsconfig, inventories, a playbook, a task',
    )
    .argument('[dir]', 'directory of the new project (created if missing)', undefined)
    .action(async (dir) => {
      const target = dir ?? '.';
      const written = await initProject(target, version);
      const shown = displayPath(resolve(target));
      process.stdout.write(
        `created in ${shown}/:\n${written.map((p) => `  ${p}`).join('\n')}\n\nnext:\n` +
          (dir === undefined ? '' : `  cd ${shown}\n`) +
          `  npm install\n` +
          `  npm run typecheck\n` +
          `  npx fleetbook run playbooks/site.ts -i inventories/staging.yaml --check --diff\n`,
      );
    });
}
