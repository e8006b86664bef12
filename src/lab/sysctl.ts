/**
 * The kernel parameters a lab host may set as a real host does. systemd-nspawn mounts /proc/sys
 * read-only; most of it is the machine's own (the hosts share its network namespace, so a
 * `net.*` key set in a host would be set on the machine). Those of the IPC namespace are the
 * host's alone (nspawn gives each container one), so the lab bind-mounts them writable in the
 * host's mount namespace: `sysctl` can then be tested on lab hosts without touching the machine.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { run } from './exec.ts';
import type { HostPaths } from './paths.ts';
import type { ProcRef } from './proc.ts';
import type { LabTools } from './tools.ts';

/** The IPC namespace's parameters (ipc/ipc_sysctl.c and ipc/mq_sysctl.c), as /proc/sys paths. */
export const HOST_OWN_SYSCTLS = [
  'kernel/msgmax',
  'kernel/msgmnb',
  'kernel/msgmni',
  'kernel/sem',
  'kernel/shmall',
  'kernel/shmmax',
  'kernel/shmmni',
  'kernel/shm_rmid_forced',
  'fs/mqueue/msg_default',
  'fs/mqueue/msg_max',
  'fs/mqueue/msgsize_default',
  'fs/mqueue/msgsize_max',
  'fs/mqueue/queues_max',
] as const;

/** PID 1 of the host's container: the child of its systemd-nspawn that is PID 1 in its namespace. */
async function containerInit(nspawn: ProcRef): Promise<number | null> {
  const tasks = await readdir(`/proc/${nspawn.pid}/task`).catch(() => []);
  for (const t of tasks) {
    const children = await readFile(`/proc/${nspawn.pid}/task/${t}/children`, 'utf8').catch(
      () => '',
    );
    for (const pid of children.split(/\s+/).filter((c) => c !== '')) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      if (/^NSpid:\s+\d+\s+1\s*$/m.test(status)) return Number(pid);
    }
  }
  return null;
}

/** Every parameter of the list that this kernel has is a mount point of its own in the host. */
async function alreadyOpen(init: number): Promise<boolean> {
  const mounts = new Set(
    (await readFile(`/proc/${init}/mountinfo`, 'utf8').catch(() => ''))
      .split('\n')
      .map((l) => l.split(' ')[4]),
  );
  for (const k of HOST_OWN_SYSCTLS) {
    const p = `/proc/sys/${k}`;
    if (
      !mounts.has(p) &&
      (await stat(p).then(
        () => true,
        () => false,
      ))
    )
      return false;
  }
  return true;
}

// Run inside the host: its mount namespace and root, and its IPC namespace, whose parameters'
// files /proc/sys shows only to its own processes (a bind over the machine's is not the host's).
// Idempotent: a writable path is left alone.
const OPEN_SCRIPT = `for k in ${HOST_OWN_SYSCTLS.join(' ')}; do
p=/proc/sys/$k
if [ -e "$p" ] && ! [ -w "$p" ]; then mount --bind "$p" "$p" && mount -o remount,bind,rw "$p" || exit 1; fi
done`;

/** Makes the host's own (IPC namespace) kernel parameters writable inside it. */
export async function openHostSysctls(
  h: HostPaths,
  tools: LabTools,
  nspawn: ProcRef,
): Promise<void> {
  const init = await containerInit(nspawn);
  if (init === null) throw new Error(`${h.name}: its container's init was not found`);
  // Already done at its boot (lab up runs on every test file): read, not a process per host.
  if (await alreadyOpen(init)) return;
  const r = await run(
    tools.nsenter,
    ['--target', String(init), '--mount', '--ipc', '--root', '--wd', '/bin/sh', '-c', OPEN_SCRIPT],
    { allowFailure: true, timeoutMs: 15_000 },
  );
  if (r.code !== 0)
    throw new Error(
      `${h.name}: could not make its own kernel parameters writable: ${r.stderr.trim()}`,
    );
}
