import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { labSsh, labStatus, labUp, type LabInfo } from '../../src/lab/index.ts';
import type { RunEvent, TaskEndEvent } from '../../src/runner/events.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** The lab every e2e file shares: started (or reused) once per file; failing to start fails the suite. */
export async function lab(count: number): Promise<LabInfo> {
  // Never shrink a lab another test file grew: test files run one after another on one lab.
  const now = await labStatus();
  const running = now?.hosts.filter((h) => h.running).length ?? 0;
  // Only hosts really running count: a lab left behind by a killed session is not worth rebooting.
  return labUp({ count: Math.max(count, running) });
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Parsed --json events (empty without --json). */
  readonly events: RunEvent[];
}

/** Run the real CLI as a user would, from the project root. */
export function fleetbook(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/fleetbook.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const events = args.includes('--json')
        ? stdout
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as RunEvent)
        : [];
      resolve({ code: code ?? 255, stdout, stderr, events });
    });
  });
}

export function taskEnds(r: CliResult, host?: string): TaskEndEvent[] {
  return r.events.filter(
    (e): e is TaskEndEvent => e.type === 'task-end' && (host === undefined || e.host === host),
  );
}

/** Run a shell command on a lab host over the system ssh (independent of fleetbook's transport). */
export async function onHost(host: string, command: string): Promise<string> {
  const r = await labSsh(host, command);
  assert.equal(r.code, 0, `${host}: ${command} failed: ${r.stderr}`);
  return r.stdout;
}

/** A fingerprint of paths on a host (content hash, mode, owner) to prove a run changed nothing. */
export async function snapshot(host: string, paths: readonly string[]): Promise<string> {
  const stats = paths.map(
    (p) =>
      `if [ -e '${p}' ]; then stat -c '%n %a %U %G %F' '${p}'; [ -f '${p}' ] && sha256sum '${p}'; else echo 'absent ${p}'; fi`,
  );
  const cmd = [...stats, 'true'].join('; ');
  return onHost(
    host,
    `${cmd}; dpkg-query -W -f='\${Package} \${Status}\\n' 2>/dev/null | sha256sum; getent passwd | sha256sum`,
  );
}
