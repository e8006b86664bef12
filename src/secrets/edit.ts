import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { checkValue, updateSecrets } from './store.ts';
import { parseValues, type Values } from './vault.ts';

const TMPFS_MAGIC = 0x01021994;

/** A directory in memory (tmpfs) for the editor's file: the plaintext must not reach a disk. */
async function memoryDir(): Promise<string> {
  for (const base of [process.env['XDG_RUNTIME_DIR'], '/dev/shm']) {
    if (base === undefined || base === '') continue;
    try {
      if ((await statfs(base)).type === TMPFS_MAGIC) return await mkdtemp(join(base, 'fleetbook-'));
    } catch {
      // not there: try the next
    }
  }
  throw new ConfigError(
    'no memory file system ($XDG_RUNTIME_DIR or /dev/shm on tmpfs) to edit secrets in: plaintext is never written to disk; use `fleetbook secret set` instead',
  );
}

/**
 * Opens the environment's secrets as JSON in $VISUAL or $EDITOR, then encrypts what was saved.
 * The file lives in memory, mode 0600, and is removed whatever happens.
 */
export async function editSecrets(
  environment: string,
): Promise<{ file: string; changed: boolean }> {
  const editor = process.env['VISUAL'] || process.env['EDITOR'] || 'vi';
  let changed = false;
  const file = await updateSecrets(environment, async (values) => {
    const dir = await memoryDir();
    try {
      const path = join(dir, `${environment}.json`);
      const before = `${JSON.stringify(values, null, 2)}\n`;
      await writeFile(path, before, { mode: 0o600 });
      // Through the shell, as git runs an EDITOR such as "code --wait".
      const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', path], {
        stdio: 'inherit',
      });
      if (r.status !== 0)
        throw new ConfigError(`${editor} exited with ${r.status ?? r.signal}: nothing changed`);
      const after = await readFile(path, 'utf8');
      changed = after !== before;
      return changed ? checked(after) : values;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return { file, changed };
}

function checked(text: string): Values {
  try {
    const values = parseValues(text, 'the edited secrets');
    return Object.fromEntries(
      Object.entries(values).map(([name, value]) => [name, checkValue(name, value)]),
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${err.message}: nothing changed`);
    throw err;
  }
}
