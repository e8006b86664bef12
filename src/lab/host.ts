import { spawn } from 'node:child_process';
import { copyFile, chmod, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { hostsFile } from './base.ts';
import { createHostCgroup, ENTER_CGROUPS_AND_EXEC, removeHostCgroup } from './cgroup.ts';
import { run, tailLines } from './exec.ts';
import { ensureHostKey } from './keys.ts';
import type { HostPaths, LabPaths } from './paths.ts';
import {
  findContainerInits,
  findNspawns,
  isMountPoint,
  isRunning,
  procRef,
  signal,
  sleep,
  waitGone,
  type ProcRef,
} from './proc.ts';
import { readJson, writeJson, type HostState } from './state.ts';
import type { LabTools } from './tools.ts';

export const SSH_PORT = 22;

export async function readHostState(h: HostPaths): Promise<HostState | null> {
  return readJson<HostState>(h.state);
}

/** The recorded systemd-nspawn process, if it is still running. A stale record (PID gone or reused) counts as none. */
export async function runningNspawn(h: HostPaths): Promise<ProcRef | null> {
  const st = await readHostState(h);
  if (st?.nspawn !== null && st?.nspawn !== undefined && (await isRunning(st.nspawn)))
    return st.nspawn;
  return null;
}

function checkMountablePath(p: string): void {
  // overlay's option string is split on ',' and ':'
  if (/[,:\s\\]/.test(p))
    throw new Error(`the lab directory must not contain ',', ':', '\\' or whitespace: ${p}`);
}

/**
 * Creates the host's directories and host key, mounts its overlay (if not mounted) and writes the
 * per-host files into it. Returns the host's ed25519 public key line.
 */
export async function prepareHost(h: HostPaths, paths: LabPaths, tools: LabTools): Promise<string> {
  checkMountablePath(paths.base);
  checkMountablePath(h.dir);
  for (const d of [h.dir, h.upper, h.work, h.rootfs]) await mkdir(d, { recursive: true });
  const pub = await ensureHostKey(h.hostKeys, h.name, tools);
  if (!(await isMountPoint(h.rootfs))) {
    await run(tools.mount, [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${paths.base},upperdir=${h.upper},workdir=${h.work}`,
      h.rootfs,
    ]).catch((e: unknown) => {
      throw new Error(`could not mount the overlay for ${h.name}: ${(e as Error).message}`, {
        cause: e,
      });
    });
  }
  const r = (rel: string) => path.join(h.rootfs, rel);
  await writeFile(r('etc/hostname'), `${h.name}\n`);
  await writeFile(r('etc/hosts'), hostsFile(h.name, h.address));
  await writeFile(
    r('etc/ssh/sshd_config.d/lab.conf'),
    `# fleetbook lab: this host's address and its host key\nListenAddress ${h.address}\nHostKey /etc/ssh/ssh_host_ed25519_key\n`,
  );
  const key = r('etc/ssh/ssh_host_ed25519_key');
  await copyFile(path.join(h.hostKeys, 'ssh_host_ed25519_key'), key);
  await chmod(key, 0o600);
  await copyFile(path.join(h.hostKeys, 'ssh_host_ed25519_key.pub'), `${key}.pub`);
  await chmod(`${key}.pub`, 0o644);
  return pub;
}

/** Does something accept TCP connections at address:port? */
export function tcpOpen(address: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => {
      done(false);
    });
    sock.once('connect', () => {
      done(true);
    });
    sock.once('error', () => {
      done(false);
    });
  });
}

/**
 * Does an SSH server answer at address:22? Waits for its banner and sends a client identification
 * before closing, so sshd logs a plain "Connection closed [preauth]" rather than an error.
 */
export function sshAnswers(address: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port: SSH_PORT });
    let banner = '';
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      sock.removeAllListeners('data');
      if (ok) {
        sock.end('SSH-2.0-fleetbook-lab-probe\r\n');
        sock.setTimeout(timeoutMs, () => sock.destroy());
      } else {
        sock.destroy();
      }
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => {
      done(false);
    });
    sock.on('data', (d: Buffer) => {
      banner += d.toString('latin1');
      if (banner.includes('\n')) done(banner.startsWith('SSH-'));
    });
    sock.once('error', () => {
      done(false);
    });
    sock.once('close', () => {
      done(false);
    });
  });
}

/** Boots the (prepared, mounted) host with systemd-nspawn, detached, and records its PID. */
export async function bootHost(h: HostPaths, tools: LabTools): Promise<ProcRef> {
  // a container left over from a crashed lab command (or whose nspawn was killed): it runs on our
  // overlay, so it is ours; end it
  const leftovers = [...(await findContainerInits(h.upper)), ...(await findNspawns(h.rootfs))];
  for (const p of leftovers) signal(p.pid, 'SIGKILL');
  for (const p of leftovers) {
    if (!(await waitGone(p, 5000)))
      throw new Error(`cannot start ${h.name}: its old container (PID ${p.pid}) does not die`);
  }
  if (await tcpOpen(h.address, SSH_PORT)) {
    throw new Error(
      `cannot start ${h.name}: something already listens on ${h.address}:${SSH_PORT} ` +
        `(an sshd on this machine listening on 0.0.0.0? give it a specific ListenAddress)`,
    );
  }
  await removeHostCgroup(h.name);
  const cgroupProcs = await createHostCgroup(h.name);
  const fh = await open(h.console, 'a');
  let child;
  try {
    await fh.write(`\n--- fleetbook lab: booting ${h.name} at ${new Date().toISOString()} ---\n`);
    child = spawn(
      '/bin/sh',
      [
        '-c',
        ENTER_CGROUPS_AND_EXEC,
        'fleetbook-lab',
        String(cgroupProcs.length),
        ...cgroupProcs,
        tools.nspawn,
        '--register=no',
        '--keep-unit',
        '-q',
        '-D',
        h.rootfs,
        '--boot',
        `--machine=${h.name}`,
        '--resolv-conf=replace-host',
        '--link-journal=no',
      ],
      { detached: true, stdio: ['ignore', fh.fd, fh.fd] },
    );
  } finally {
    await fh.close();
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  const pid = child.pid;
  const ref = pid === undefined ? null : await procRef(pid);
  if (ref === null) {
    const err = await Promise.race([spawnError, sleep(200).then(() => null)]);
    throw new Error(
      `systemd-nspawn for ${h.name} did not start${err === null ? '' : `: ${err.message}`}${await consoleTail(h)}`,
    );
  }
  const state: HostState = {
    name: h.name,
    address: h.address,
    nspawn: ref,
    startedAt: new Date().toISOString(),
  };
  await writeJson(h.state, state);
  return ref;
}

const ANSI = new RegExp(String.raw`\u001b\[[0-9;?]*[A-Za-z]`, 'g');

export async function consoleTail(h: HostPaths, lines = 25): Promise<string> {
  const text = await readFile(h.console, 'utf8').catch(() => '');
  if (text.trim() === '') return '';
  return `\n--- last lines of ${h.console} ---\n${tailLines(text.replace(ANSI, '').trimEnd(), lines)}`;
}

export function sshArgs(
  paths: LabPaths,
  user: string,
  address: string,
  connectTimeoutS = 5,
): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    paths.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${paths.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `ConnectTimeout=${connectTimeoutS}`,
    '-o',
    'LogLevel=ERROR',
    `${user}@${address}`,
  ];
}

/**
 * Waits until the host's sshd accepts connections and a real `ssh root@host true` (key checked
 * against the lab's known_hosts) succeeds. Fails early if systemd-nspawn exits.
 */
export async function waitForSsh(
  h: HostPaths,
  paths: LabPaths,
  tools: LabTools,
  nspawn: ProcRef | null,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'port 22 never opened';
  for (;;) {
    if (nspawn !== null && !(await isRunning(nspawn))) {
      throw new Error(
        `${h.name}: systemd-nspawn exited while the host was booting${await consoleTail(h)}`,
      );
    }
    if (await sshAnswers(h.address)) {
      const r = await run(tools.ssh, [...sshArgs(paths, 'root', h.address), 'true'], {
        allowFailure: true,
        timeoutMs: 15_000,
      }).catch((e: unknown) => ({ code: -1, stdout: '', stderr: (e as Error).message }));
      if (r.code === 0) return;
      last = `ssh root@${h.address} true failed (status ${r.code}): ${r.stderr.trim()}`;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${h.name} (${h.address}) did not answer over SSH within ${Math.round(timeoutMs / 1000)} s: ${last}${await consoleTail(h)}`,
      );
    }
    await sleep(100);
  }
}

/**
 * Stops the host: 'poweroff' asks systemd-nspawn to shut the container down (SIGTERM) and kills it
 * only if that takes too long; 'kill' kills the container at once, like a host dying.
 * Then unmounts the overlay. Only processes running on this host's overlay are touched.
 */
export async function stopHost(
  h: HostPaths,
  tools: LabTools,
  mode: 'poweroff' | 'kill',
  log: (line: string) => void = () => undefined,
  graceMs = 15_000,
): Promise<void> {
  const nspawns = new Map<number, ProcRef>();
  const recorded = await runningNspawn(h);
  if (recorded !== null) nspawns.set(recorded.pid, recorded);
  for (const p of await findNspawns(h.rootfs)) nspawns.set(p.pid, p);
  let inits = await findContainerInits(h.upper);

  if (mode === 'poweroff' && nspawns.size > 0) {
    for (const p of nspawns.values()) signal(p.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    let late = false;
    for (const p of nspawns.values())
      late = !(await waitGone(p, Math.max(0, deadline - Date.now()))) || late;
    if (late)
      log(
        `${h.name} did not power off within ${graceMs / 1000} s; killing it${await consoleTail(h, 15)}`,
      );
    inits = await findContainerInits(h.upper);
  }
  // what is left: kill the container (killing a PID namespace's init kills all of it), then nspawn
  for (const p of inits) signal(p.pid, 'SIGKILL');
  for (const p of nspawns.values()) {
    if (!(await waitGone(p, 3000))) {
      signal(p.pid, 'SIGKILL');
      await waitGone(p, 3000);
    }
  }
  // On a loaded machine a container with many processes takes a while to be torn down.
  for (const p of inits) {
    if (await waitGone(p, 10_000)) continue;
    signal(p.pid, 'SIGKILL');
    if (!(await waitGone(p, 30_000)))
      throw new Error(`${h.name}: the container (PID ${p.pid}) did not die within 40 s of SIGKILL`);
  }

  await unmountHost(h, tools);
  await removeHostCgroup(h.name);
  const stopped: HostState = { name: h.name, address: h.address, nspawn: null, startedAt: null };
  await writeJson(h.state, stopped);
}

export async function unmountHost(h: HostPaths, tools: LabTools): Promise<void> {
  for (let attempt = 0; await isMountPoint(h.rootfs); attempt++) {
    const r = await run(tools.umount, [h.rootfs], { allowFailure: true });
    if (r.code === 0) continue;
    if (attempt >= 25) throw new Error(`could not unmount ${h.rootfs}: ${r.stderr.trim()}`);
    await sleep(200);
  }
}

/** Stops the host and removes its directory (overlay, host keys, console log). */
export async function removeHost(
  h: HostPaths,
  tools: LabTools,
  mode: 'poweroff' | 'kill',
  log: (line: string) => void = () => undefined,
): Promise<void> {
  await stopHost(h, tools, mode, log);
  if (await isMountPoint(h.rootfs)) throw new Error(`${h.rootfs} is still mounted`);
  await run('rm', ['-rf', '--one-file-system', h.dir]);
}

/** Wipes the overlay's upper layer: the host comes back as the base plus its per-host files. */
export async function wipeHost(h: HostPaths): Promise<void> {
  await rm(h.upper, { recursive: true, force: true });
  await rm(h.work, { recursive: true, force: true });
  await mkdir(h.upper, { recursive: true });
  await mkdir(h.work, { recursive: true });
}

/** The lab raises these when it runs more than 8 hosts (too few make containers hang at boot). */
export async function raiseInotifyLimits(log: (line: string) => void): Promise<void> {
  const want: Record<string, number> = { max_user_instances: 8192, max_user_watches: 524288 };
  for (const [name, value] of Object.entries(want)) {
    const file = `/proc/sys/fs/inotify/${name}`;
    const current = Number((await readFile(file, 'utf8')).trim());
    if (current < value) {
      await writeFile(file, `${value}\n`);
      log(`raised fs.inotify.${name} from ${current} to ${value}`);
    }
  }
}
