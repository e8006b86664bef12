import { execFile as execFileCb, spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labResetHost, labSsh, labStatus, labUp, type LabInfo } from '../../src/lab/index.ts';
import type { RunEvent, TaskEndEvent } from '../../src/runner/events.ts';
import '../support/age-identity.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
const execFile = promisify(execFileCb);

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `lab${from + i}`);

/**
 * Which lab hosts each e2e file owns. No two files share a host, and each file resets its hosts
 * before it starts, so the files pass in any order and alone.
 */
export const HOSTS = {
  fourPass: ['lab1'],
  errors: ['lab2'],
  service: ['lab3'],
  django: ['lab4', 'lab5'],
  rollback: ['lab6', 'lab7', 'lab8'],
  undoWrites: ['lab9', 'lab10'],
  sixTasks: range(11, 15),
  reload: ['lab16'],
  rollout: range(17, 36),
  lab: ['lab37', 'lab38'],
  faults: ['lab39', 'lab40', 'lab41'],
  package: ['lab42'],
  jump: ['lab43', 'lab44'],
  exec: ['lab45'],
  results: ['lab46'],
  restore: ['lab47', 'lab48'],
  example: ['lab49'],
  report: ['lab50', 'lab51'],
} as const satisfies Record<string, readonly string[]>;

/** Every file asks for the same lab size, so no file shrinks or grows it under another. */
export const LAB_SIZE = 51;

/**
 * The lab every e2e file shares, started (or reused) once per file, with this file's hosts reset
 * to a fresh Debian. Failing to start fails the suite.
 */
export async function lab(
  file: keyof typeof HOSTS,
  opts: { reset?: boolean } = {},
): Promise<LabInfo> {
  // Never shrink a lab that is bigger (a benchmark may have grown it); only hosts really running count.
  const now = await labStatus();
  const running = now?.hosts.filter((h) => h.running).length ?? 0;
  const info = await labUp({ count: Math.max(LAB_SIZE, running) });
  if (opts.reset !== false) await Promise.all(HOSTS[file].map((h) => labResetHost(h)));
  return info;
}

/**
 * After a test changed a host: it must be healthy, not merely "the task said ok": systemd says
 * `running` (no failed unit) and fleetbook left no temporary file in /etc, /usr or /var.
 */
export async function assertHealthy(hosts: readonly string[]): Promise<void> {
  for (const h of hosts) {
    const r = await labSsh(h, 'systemctl is-system-running --wait');
    const failed = (await labSsh(h, 'systemctl --failed --no-legend --plain')).stdout;
    assert.equal(
      r.stdout.trim(),
      'running',
      `${h} is ${r.stdout.trim()}; failed units:\n${failed}`,
    );
    const temps = (
      await labSsh(
        h,
        "find /etc /usr /var /opt /srv -xdev -type d -name '.fleetbook-??????' 2>/dev/null",
      )
    ).stdout.trim();
    assert.equal(temps, '', `${h}: fleetbook left temporary files behind`);
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Parsed --json events (empty without --json). */
  readonly events: RunEvent[];
}

/** No command in these tests takes this long; one that does has hung, and says where. */
const HANG_MS = 300_000;

export interface Spawned {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command to its end; one still running after HANG_MS is killed and fails with its output. */
export function spawnLimited(
  cmd: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const hung = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${cmd} ${args.join(' ')} (in ${opts.cwd}) hung for ${String(HANG_MS / 1000)} s\n` +
            `stdout (end): ${stdout.slice(-4000)}\nstderr (end): ${stderr.slice(-4000)}`,
        ),
      );
    }, HANG_MS);
    child.on('close', (code) => {
      clearTimeout(hung);
      resolve({ code: code ?? 255, stdout, stderr });
    });
  });
}

/** Run the real CLI as a user would, from the project root. */
export async function fleetbook(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const r = await spawnLimited(process.execPath, ['bin/fleetbook.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, NO_COLOR: '1' },
  });
  // `show --json` prints one JSON document, not events.
  const events =
    args.includes('--json') && args[0] !== 'show'
      ? r.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as RunEvent)
      : [];
  return { ...r, events };
}

/**
 * As an operator would: the lab smarthost's password, from its file, set as the development
 * environment's secret in `secretsDir` (a temp dir, never the developer's).
 */
export async function setSmarthostPassword(info: LabInfo, secretsDir: string): Promise<void> {
  const set = await fleetbook(
    [
      'secret',
      'set',
      'development',
      'smarthost_password',
      '--from-file',
      info.smarthost.passwordFile,
    ],
    { FLEETBOOK_SECRETS_DIR: secretsDir },
  );
  assert.equal(set.code, 0, `fleetbook secret set: ${set.stderr}`);
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

/** A change summary without the ages it may state, which grow between two runs ("updated 6 min ago"). */
function timeless(summary: string): string {
  return summary.replace(/\b\d+ (s|min|h|days) ago\b/g, 'N ago');
}

/**
 * A dry run told the truth about the real run that followed, task by task on each host: the same
 * tasks; each predicted change was made, with the same changes; each predicted ok stayed ok; an
 * `unknown` says why. Returns how many were unknown.
 */
export function assertPredicted(
  check: CliResult,
  real: CliResult,
  hosts: readonly string[],
): number {
  let unknown = 0;
  for (const h of hosts) {
    const predicted = taskEnds(check, h);
    const made = taskEnds(real, h);
    assert.deepEqual(
      made.map((e) => e.task),
      predicted.map((e) => e.task),
      `${h}: the real run ran other tasks than the dry run named`,
    );
    predicted.forEach((p, i) => {
      const r = made[i];
      const what = `${h}: ${p.task}: predicted ${p.outcome} ${JSON.stringify(p.changes)}, got ${String(r?.outcome)} ${JSON.stringify(r?.changes)}`;
      if (p.outcome === 'unknown') {
        unknown++;
        assert.ok((p.message ?? '') !== '', `${what}: unknown without a reason`);
      } else if (p.outcome === 'would-change') {
        assert.equal(r?.outcome, 'changed', what);
        assert.deepEqual(r.changes.map(timeless), p.changes.map(timeless), what);
      } else assert.equal(r?.outcome, p.outcome, what);
    });
  }
  return unknown;
}

/** A new ed25519 key pair on the controller: the private key's path and the public key's line. */
export async function newKeyPair(): Promise<{ key: string; pub: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fb-key-'));
  const key = join(dir, 'id_ed25519');
  await execFile('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fb-e2e', '-f', key]);
  return { key, pub: (await readFile(`${key}.pub`, 'utf8')).trim(), dir };
}

/** Log in to a lab host as `user` with the private key `key`, through sshd as any client would. */
export async function loginAs(
  info: LabInfo,
  host: string,
  user: string,
  key: string,
): Promise<{ code: number; stdout: string }> {
  const h = info.hosts.find((x) => x.name === host);
  return execFile('ssh', [
    ...['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes'],
    ...['-o', `UserKnownHostsFile=${info.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes'],
    ...['-p', String(h?.port ?? 22), `${user}@${h?.address ?? ''}`, 'id -un'],
  ]).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: unknown) => {
      const failed = e as { code?: number; stdout?: string };
      return { code: failed.code ?? 1, stdout: failed.stdout ?? '' };
    },
  );
}
