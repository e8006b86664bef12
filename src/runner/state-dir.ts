import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** Controller-side state (run journals, owed handlers): `.fleetbook/` in the project, git-ignored. */
export function stateDir(): string {
  return resolve(process.env.FLEETBOOK_STATE_DIR ?? join(process.cwd(), '.fleetbook'));
}

/** Write a file so that a crash leaves either the old or the new content, never half of it. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}
