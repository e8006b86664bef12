import { spawn } from 'node:child_process';
import type { Channel, Transport } from './types.ts';

/** Runs commands on the controller itself (`connection: local`), through /bin/sh like the SSH transport. */
export function connectLocal(): Transport {
  return {
    open(command: string): Promise<Channel> {
      // Its own process group: a job the session kills must never take the controller with it.
      const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: 'pipe' });
      const closed = new Promise<{ code: number | null; reason?: string }>((resolve) => {
        child.on('close', (code) => {
          resolve({ code });
        });
        child.on('error', (err) => {
          resolve({ code: null, reason: err.message });
        });
      });
      child.stdin.on('error', () => undefined);
      return Promise.resolve({
        write: (data) => {
          child.stdin.write(data);
        },
        end: () => {
          child.stdin.end();
        },
        onStdout: (l) => child.stdout.on('data', l),
        onStderr: (l) => child.stderr.on('data', l),
        closed,
        destroy: () => {
          child.stdin.destroy();
          child.kill('SIGTERM');
        },
      });
    },
    close: () => Promise.resolve(),
  };
}
