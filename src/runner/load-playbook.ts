import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { displayPath } from '../core/paths.ts';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.ts';
import type { Playbook } from '../core/playbook.ts';

/** Import a playbook module (TypeScript through tsx, or JavaScript) and check its default export. */
export async function loadPlaybook(path: string): Promise<{ playbook: Playbook; file: string }> {
  const abs = resolve(path);
  const file = displayPath(abs);
  try {
    await access(abs);
  } catch {
    throw new ConfigError('playbook file not found', { file });
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.message, { ...err.source, file });
    throw new ConfigError(
      `cannot load playbook: ${err instanceof Error ? err.message : String(err)}`,
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
