import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { removeLabCgroups } from './cgroup.ts';
import { baseIsCurrent, buildBase, DEPLOY_USER, wantedMarker } from './base.ts';
import { run, type RunResult } from './exec.ts';
import {
  bootHost,
  prepareHost,
  raiseInotifyLimits,
  removeHost,
  runningNspawn,
  sshArgs,
  SSH_PORT,
  stopHost,
  waitForSsh,
  wipeHost,
} from './host.ts';
import { projectInventoryPath, removeGeneratedInventory, writeInventories } from './inventory.ts';
import { ensureControllerKey, ensureHostKey } from './keys.ts';
import { withLabLock } from './lock.ts';
import {
  hostIndex,
  hostPaths,
  labPaths,
  MAX_HOSTS,
  projectDir,
  type HostPaths,
  type LabPaths,
} from './paths.ts';
import { ensureSmarthost, smarthostInfo, stopSmarthost } from './smarthost.ts';
import { readJson, writeFileAtomic, writeJson, type LabState } from './state.ts';
import { ensureTools, type LabTools } from './tools.ts';
import type { LabHost, LabInfo, LabLog } from './types.ts';
import type { ProcRef } from './proc.ts';
import { openHostSysctls } from './sysctl.ts';

const quiet: LabLog = () => undefined;

/** How long a host may take from boot to answering SSH. */
function bootTimeoutMs(count: number): number {
  const fromEnv = Number(process.env['FLEETBOOK_LAB_BOOT_TIMEOUT'] ?? '');
  if (Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv * 1000;
  return Math.max(60_000, count * 3_000);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Indexes of the hosts that have a directory under `<root>/hosts`. */
async function existingHostIndexes(paths: LabPaths): Promise<number[]> {
  const names = await readdir(paths.hosts).catch(() => [] as string[]);
  return names
    .map(hostIndex)
    .filter((i): i is number => i !== null)
    .sort((a, b) => a - b);
}

async function writeKnownHosts(
  paths: LabPaths,
  hosts: HostPaths[],
  publicKeys: string[],
): Promise<void> {
  const lines = hosts.map((h, k) => {
    const [type, key] = (publicKeys[k] ?? '').split(/\s+/);
    if (type === undefined || key === undefined) throw new Error(`no host key for ${h.name}`);
    return `${h.address} ${type} ${key}`;
  });
  await writeFileAtomic(paths.knownHosts, `${lines.join('\n')}\n`);
}

async function hostInfo(h: HostPaths): Promise<LabHost> {
  const nspawn = await runningNspawn(h);
  return {
    name: h.name,
    address: h.address,
    port: SSH_PORT,
    pid: nspawn?.pid ?? null,
    running: nspawn !== null,
  };
}

async function info(paths: LabPaths, indexes: number[]): Promise<LabInfo> {
  return {
    hosts: await Promise.all(indexes.map((i) => hostInfo(hostPaths(i, paths.root)))),
    inventoryPath: paths.inventory,
    keyPath: paths.key,
    knownHostsPath: paths.knownHosts,
    smarthost: await smarthostInfo(paths),
  };
}

/** Waits for every host; one Error listing all that failed. */
async function waitAll(
  hosts: HostPaths[],
  paths: LabPaths,
  tools: LabTools,
  nspawns: ProcRef[],
  timeoutMs: number,
): Promise<void> {
  const results = await Promise.allSettled(
    hosts.map(async (h, k) => {
      // A host that was already running is never rebooted here: on a loaded machine a slow answer
      // is normal, and a reboot would pull it from under whoever is using it (a test, a benchmark).
      // It gets the full timeout, then is reported like any other host that does not answer.
      const nspawn = nspawns[k] ?? null;
      await waitForSsh(h, paths, tools, nspawn, timeoutMs);
      if (nspawn !== null) await openHostSysctls(h, tools, nspawn);
    }),
  );
  const failed = results.flatMap((r) =>
    r.status === 'rejected' ? [(r.reason as Error).message] : [],
  );
  if (failed.length > 0) {
    throw new Error(
      `the lab did not come up (${failed.length} of ${hosts.length} hosts failed):\n\n${failed.join('\n\n')}`,
    );
  }
}

/**
 * Brings the lab to `count` running hosts (lab1..labN on 127.0.1.1..N) plus the smarthost.
 * Idempotent: running hosts are kept, missing ones started, hosts beyond `count` stopped and removed.
 * Builds (once) and caches the base root filesystem, installing debootstrap & co. with apt-get if missing.
 */
export async function labUp(opts: {
  count: number;
  log?: (line: string) => void;
}): Promise<LabInfo> {
  const { count } = opts;
  const log = opts.log ?? quiet;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new Error(
      `the lab's host count must be a whole number from 1 to ${MAX_HOSTS}, not ${count}`,
    );
  }
  const paths = labPaths();
  await mkdir(paths.root, { recursive: true, mode: 0o755 });
  return withLabLock(paths.lock, async () => {
    const tools = await ensureTools(log);
    const controllerKey = await ensureControllerKey(paths, tools);
    const want = await wantedMarker(controllerKey);
    if (!(await baseIsCurrent(paths, want))) {
      const old = await existingHostIndexes(paths);
      if (old.length > 0) {
        log(
          `the base root filesystem must be rebuilt: removing the ${old.length} existing hosts first`,
        );
        await Promise.all(old.map((i) => removeHost(hostPaths(i, paths.root), tools, 'kill')));
      }
      const t0 = Date.now();
      await buildBase(paths, tools, want, log);
      log(`base built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (count > 8) await raiseInotifyLimits(log);
    await ensureSmarthost(paths, log);

    const extra = (await existingHostIndexes(paths)).filter((i) => i > count);
    await Promise.all(
      extra.map((i) => {
        const h = hostPaths(i, paths.root);
        log(`removing ${h.name}`);
        return removeHost(h, tools, 'poweroff', log);
      }),
    );

    const hosts = Array.from({ length: count }, (_, k) => hostPaths(k + 1, paths.root));
    const running = await Promise.all(hosts.map((h) => runningNspawn(h)));
    const publicKeys = await Promise.all(
      hosts.map((h, k) =>
        running[k] !== null
          ? ensureHostKey(h.hostKeys, h.name, tools)
          : prepareHost(h, paths, tools),
      ),
    );
    await writeKnownHosts(paths, hosts, publicKeys);
    const toBoot = hosts.filter((_, k) => running[k] === null);
    if (toBoot.length > 0) log(`booting ${toBoot.map((h) => h.name).join(', ')}`);
    const nspawns = await Promise.all(
      hosts.map(async (h, k) => running[k] ?? (await bootHost(h, tools))),
    );
    await waitAll(hosts, paths, tools, nspawns, bootTimeoutMs(count));

    const projectCopy = projectInventoryPath(projectDir());
    const previous = await readJson<LabState>(paths.labState);
    if (
      previous?.projectInventory !== null &&
      previous?.projectInventory !== undefined &&
      previous.projectInventory !== projectCopy
    ) {
      await removeGeneratedInventory(previous.projectInventory);
    }
    await writeInventories(paths, hosts, projectCopy);
    const state: LabState = {
      count,
      projectInventory: projectCopy,
      updatedAt: new Date().toISOString(),
    };
    await writeJson(paths.labState, state);
    log(`lab up: ${count} host${count === 1 ? '' : 's'}; inventory ${projectCopy}`);
    return info(
      paths,
      hosts.map((h) => h.index),
    );
  });
}

/** Stops every host and the smarthost, unmounts and removes the hosts. Keeps the cached base and the key. */
export async function labDown(opts: { log?: (line: string) => void } = {}): Promise<void> {
  const log = opts.log ?? quiet;
  const paths = labPaths();
  if (!(await exists(paths.root))) return;
  await withLabLock(paths.lock, async () => {
    const tools = await ensureTools(log);
    const indexes = await existingHostIndexes(paths);
    if (indexes.length > 0) log(`stopping ${indexes.map((i) => `lab${i}`).join(', ')}`);
    const results = await Promise.allSettled(
      indexes.map((i) => removeHost(hostPaths(i, paths.root), tools, 'poweroff', log)),
    );
    await stopSmarthost(paths);
    const state = await readJson<LabState>(paths.labState);
    for (const inv of new Set([
      state?.projectInventory ?? null,
      projectInventoryPath(projectDir()),
    ])) {
      if (inv !== null) await removeGeneratedInventory(inv);
    }
    for (const f of [paths.inventory, paths.knownHosts, paths.labState])
      await rm(f, { force: true });
    await rm(paths.mail, { recursive: true, force: true });
    await rmdir(paths.hosts).catch(() => undefined);
    await removeLabCgroups();
    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [(r.reason as Error).message] : [],
    );
    if (failed.length > 0)
      throw new Error(`lab down: some hosts could not be removed:\n${failed.join('\n')}`);
    log('lab down');
  });
}

/** What the lab currently has, or null when it is not set up. Does not take the lab lock. */
export async function labStatus(): Promise<LabInfo | null> {
  const paths = labPaths();
  const state = await readJson<LabState>(paths.labState);
  const indexes = new Set(await existingHostIndexes(paths));
  if (state === null && indexes.size === 0) return null;
  for (let i = 1; i <= (state?.count ?? 0); i++) indexes.add(i);
  return info(
    paths,
    [...indexes].sort((a, b) => a - b),
  );
}

async function existingHost(name: string, paths: LabPaths): Promise<HostPaths> {
  const index = hostIndex(name);
  if (index === null)
    throw new Error(`not a lab host name: ${JSON.stringify(name)} (lab hosts are lab1, lab2, …)`);
  const h = hostPaths(index, paths.root);
  if (!(await exists(h.dir)) || !(await exists(paths.base))) {
    throw new Error(
      `there is no lab host ${name}; start the lab first (labUp / \`fleetbook lab up\`)`,
    );
  }
  return h;
}

/**
 * Gives a host a pristine system: stops it, wipes its overlay's upper layer and boots it again with
 * the same address and host keys; resolves once SSH answers.
 */
export async function labResetHost(name: string): Promise<void> {
  const paths = labPaths();
  await withLabLock(paths.lock, async () => {
    const h = await existingHost(name, paths);
    const tools = await ensureTools(quiet);
    await stopHost(h, tools, 'kill');
    await wipeHost(h);
    await prepareHost(h, paths, tools);
    const nspawn = await bootHost(h, tools);
    await waitForSsh(h, paths, tools, nspawn, bootTimeoutMs(1));
    await openHostSysctls(h, tools, nspawn);
  });
}

/** Kills the host's container at once (a host dying mid-run). Its disk is kept: labStartHost brings it back. */
export async function labStopHost(name: string): Promise<void> {
  const paths = labPaths();
  await withLabLock(paths.lock, async () => {
    const h = await existingHost(name, paths);
    await stopHost(h, await ensureTools(quiet), 'kill');
  });
}

/** Boots a stopped host again (keeping its disk); resolves once SSH answers. */
export async function labStartHost(name: string): Promise<void> {
  const paths = labPaths();
  await withLabLock(paths.lock, async () => {
    const h = await existingHost(name, paths);
    const tools = await ensureTools(quiet);
    let nspawn = await runningNspawn(h);
    if (nspawn === null) {
      await prepareHost(h, paths, tools);
      nspawn = await bootHost(h, tools);
    }
    await waitForSsh(h, paths, tools, nspawn, bootTimeoutMs(1));
    await openHostSysctls(h, tools, nspawn);
  });
}

/**
 * Runs a shell command on a lab host with the system ssh client (lab key, lab known_hosts,
 * strict host key checking). Resolves with the exit code; it does not throw on a non-zero one.
 */
export async function labSsh(
  name: string,
  command: string,
  opts: { user?: string; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const index = hostIndex(name);
  if (index === null) throw new Error(`not a lab host name: ${JSON.stringify(name)}`);
  const paths = labPaths();
  const h = hostPaths(index, paths.root);
  return run('ssh', [...sshArgs(paths, opts.user ?? 'root', h.address), command], {
    allowFailure: true,
    timeoutMs: opts.timeoutMs ?? 120_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/** The lab's non-root user (passwordless sudo), for testing `become`. */
export const LAB_DEPLOY_USER = DEPLOY_USER;

/** Human-readable `fleetbook lab status`. */
export function formatLabStatus(lab: LabInfo | null): string {
  if (lab === null) return 'the lab is not set up (fleetbook lab up)';
  const rows = lab.hosts.map(
    (h) =>
      `  ${h.name.padEnd(6)} ${h.address.padEnd(12)} ${h.running ? `running (nspawn PID ${h.pid})` : 'stopped'}`,
  );
  const s = lab.smarthost;
  return [
    `hosts (inventory ${lab.inventoryPath}):`,
    ...rows,
    `smarthost ${s.host}:${s.port} (STARTTLS) / ${s.tlsPort} (TLS), user ${s.user}: ${s.running ? `running (PID ${s.pid})` : 'stopped'}`,
    `mail stored in ${s.mailDir}`,
  ].join('\n');
}
