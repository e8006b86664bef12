import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { displayPath } from '../core/paths.ts';
import { useProjectOf } from '../core/project.ts';
import { importUserModule } from '../core/user-module.ts';
import { ConfigError } from '../core/errors.ts';
import type { Playbook } from '../core/playbook.ts';

/** Where in the user's own code an error was thrown: the first stack frame outside node and packages. */
export function throwSite(err: Error): string | undefined {
  for (const line of (err.stack ?? '').split('\n').slice(1)) {
    // "at f (/a/b.ts:1:2)" or "at /a/b.ts:1:2"; never node's own "(node:internal/...)" frames
    const m = /(?:^at |\()((?:file:\/\/)?\/[^()]+?):(\d+):(\d+)\)?$/.exec(line.trim());
    if (m === null) continue;
    const path = (m[1] ?? '').replace(/^file:\/\//, '');
    if (path.includes('/node_modules/') || path.startsWith('node:')) continue;
    return `${displayPath(decodeURIComponent(path))}:${m[2] ?? ''}:${m[3] ?? ''}`;
  }
  return undefined;
}

/** Import a playbook module (TypeScript through tsx, or JavaScript) and check its default export. */
export async function loadPlaybook(path: string): Promise<{ playbook: Playbook; file: string }> {
  const abs = resolve(path);
  const file = displayPath(abs);
  try {
    await access(abs);
  } catch {
    throw new ConfigError('playbook file not found', { file });
  }
  useProjectOf(abs);
  let mod: { default?: unknown };
  try {
    mod = await importUserModule(abs);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.message, { ...err.source, file });
    const at = err instanceof Error ? throwSite(err) : undefined;
    throw new ConfigError(
      `cannot load playbook: ${err instanceof Error ? err.message : String(err)}${at !== undefined ? ` (at ${at})` : ''}`,
      { file },
    );
  }
  const pb = mod.default as Partial<Playbook> | undefined;
  if (pb?.kind !== 'playbook') {
    throw new ConfigError('a playbook module must `export default definePlaybook({...})`', {
      file,
    });
  }
  return { playbook: pb as Playbook, file };
}
