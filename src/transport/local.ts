import { $ } from 'zx';
import type { ExecOptions, ExecResult, Transport } from './types.ts';

/** Runs commands on the controller itself (`connection: local`), through /bin/sh like the SSH transport. */
export function connectLocal(): Transport {
  return {
    async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
      const out = await $({
        nothrow: true,
        quiet: true,
        ...(opts.stdin !== undefined ? { input: opts.stdin } : {}),
      })`/bin/sh -c ${command}`;
      return { code: out.exitCode ?? 255, stdout: out.stdout, stderr: out.stderr };
    },
    close: () => Promise.resolve(),
  };
}
