import { spawn, type SpawnOptions } from 'node:child_process';

export interface Collected {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** From the call until the process closed. */
  readonly ms: number;
}

/** Run a process to its end, stdin closed, and collect its output. */
export function collect(
  command: string,
  args: readonly string[],
  opts: Omit<SpawnOptions, 'stdio'> = {},
): Promise<Collected> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        code: code ?? 255,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - t0,
      });
    });
  });
}
