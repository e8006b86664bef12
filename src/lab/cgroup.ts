import { access, mkdir, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';

/*
 * Why the lab gives every container its own cgroup:
 * with --keep-unit, systemd-nspawn puts the container in "<its own cgroup>/payload". Started from
 * the same place (a shell, a test runner, a machine whose PID 1 is not systemd), every container
 * gets the SAME cgroup, so their systemd instances share one tree (payload/system.slice/ssh.service
 * …) and trip over each other: one host removing a unit's cgroup while another starts the same
 * unit makes that start fail (seen: "Failed to start systemd-halt.service" on shutdown).
 * So each nspawn is moved, before it starts, into fleetbook-lab/<host> of the hierarchy systemd uses.
 */

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

let cachedRoots: string[] | null = null;

/** The cgroup hierarchies systemd-nspawn places containers in (v2; or name=systemd v1 plus the hybrid unified one). */
export async function systemdCgroupRoots(): Promise<string[]> {
  if (cachedRoots !== null) return cachedRoots;
  const roots: string[] = [];
  if (await exists('/sys/fs/cgroup/cgroup.controllers')) {
    roots.push('/sys/fs/cgroup');
  } else {
    if (await exists('/sys/fs/cgroup/systemd/cgroup.procs')) roots.push('/sys/fs/cgroup/systemd');
    if (await exists('/sys/fs/cgroup/unified/cgroup.procs')) roots.push('/sys/fs/cgroup/unified');
  }
  cachedRoots = roots;
  return roots;
}

export function hostCgroup(hostName: string): string {
  return path.join('fleetbook-lab', hostName);
}

/** Creates the host's cgroup in every hierarchy; returns the cgroup.procs files to move a process into. */
export async function createHostCgroup(hostName: string): Promise<string[]> {
  const files: string[] = [];
  for (const root of await systemdCgroupRoots()) {
    const dir = path.join(root, hostCgroup(hostName));
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new Error(
        `cannot create the cgroup ${dir} for ${hostName} (the lab needs a writable cgroup filesystem): ${(e as Error).message}`,
        { cause: e },
      );
    }
    files.push(path.join(dir, 'cgroup.procs'));
  }
  return files;
}

async function removeCgroupDir(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroupDir(path.join(dir, e.name));
  await rmdir(dir).catch(() => undefined); // busy (processes left) or gone: leave it
}

/** Removes the host's (empty) cgroups after its container has stopped. */
export async function removeHostCgroup(hostName: string): Promise<void> {
  for (const root of await systemdCgroupRoots())
    await removeCgroupDir(path.join(root, hostCgroup(hostName)));
}

/** `sh -c` script: move this shell into the cgroups given first, then exec the command (same PID). */
export const ENTER_CGROUPS_AND_EXEC =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 97; shift; n=$((n-1)); done; exec "$@"';

/** Removes the lab's parent cgroup once no host uses it. */
export async function removeLabCgroups(): Promise<void> {
  for (const root of await systemdCgroupRoots())
    await removeCgroupDir(path.join(root, 'fleetbook-lab'));
}
