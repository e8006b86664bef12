import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isRunning, procRef, sleep, type ProcRef } from './proc.ts';

let chain: Promise<unknown> = Promise.resolve();

/**
 * Runs `fn` holding the lab lock: one lab operation at a time, across processes (test files run in
 * parallel processes) and within this process. A lock left by a dead process is taken over.
 */
export function withLabLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  timeoutMs = 20 * 60_000,
): Promise<T> {
  const next = chain.then(async () => {
    const release = await acquire(lockFile, timeoutMs);
    try {
      return await fn();
    } finally {
      await release();
    }
  });
  chain = next.catch(() => undefined);
  return next;
}

async function acquire(lockFile: string, timeoutMs: number): Promise<() => Promise<void>> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const me = await procRef(process.pid);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx', 0o644);
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      return async () => {
        await rm(lockFile, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: ProcRef | null = null;
    try {
      holder = JSON.parse(await readFile(lockFile, 'utf8')) as ProcRef | null;
    } catch {
      // being written right now, or garbage: look again shortly
    }
    if (holder !== null && !(await isRunning(holder))) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (holder === null) {
      // unreadable for more than a few seconds: its writer died between creating and filling it
      const age = await stat(lockFile).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 5000) {
        await rm(lockFile, { force: true });
        continue;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the lab is busy: ${lockFile} is held by process ${holder?.pid ?? '?'} (another \`fleetbook lab\` command?)`,
      );
    }
    await sleep(200);
  }
}
