import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { projectRoot } from '../core/project.ts';

/** Controller-side state (run journals, owed handlers): `.fleetbook/` in the project, git-ignored. */
export function stateDir(): string {
  return resolve(process.env.FLEETBOOK_STATE_DIR ?? join(projectRoot(), '.fleetbook'));
}

let counter = 0;

/**
 * Write a file so that a crash leaves either the old or the new content, never half of it, and
 * the new content is on disk (fsync) when this resolves.
 */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${++counter}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
