import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * Read-modify-write of a controller state file (owed handlers, generated secrets) by one run at a
 * time: two runs started together must not each write back what they read, losing the other's
 * change. The lock is a directory next to the file (proper-lockfile), stale after 10 s of a dead
 * holder, waited for up to about 30 s.
 */
export async function withStateLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: 10_000,
    retries: { retries: 60, minTimeout: 100, maxTimeout: 1000 },
  });
  try {
    return await work();
  } finally {
    await release();
  }
}
