import {
  appendFile,
  chmod,
  chown,
  lchown,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.ts';
import { pickMirrors, readAptSources, renderHostSources } from './mirror.ts';
import type { LabPaths } from './paths.ts';
import { mountsUnder } from './proc.ts';
import { readJson, writeJson } from './state.ts';
import type { LabTools } from './tools.ts';

export const SUITE = 'bookworm';
export const BASE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'cron',
  'python3',
  'sudo',
  'ca-certificates',
] as const;
/** Bump when the customisation below changes: cached bases with an older value are rebuilt. */
const BASE_FORMAT = 2;
/** The non-root user with passwordless sudo, for testing `become`. */
export const DEPLOY_USER = 'deploy';
/**
 * Units masked in the base. apt-daily would run `apt-get update` at random times and hold the dpkg
 * lock while a playbook wants to install something.
 */
const MASKED_UNITS = [
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'apt-daily.service',
  'apt-daily-upgrade.service',
];

export interface BaseMarker {
  format: number;
  suite: string;
  variant: 'minbase';
  packages: string[];
  mirror: string;
  sources: string;
  controllerKey: string;
}

export async function wantedMarker(controllerKey: string): Promise<BaseMarker> {
  const mirrors = pickMirrors(await readAptSources(), SUITE);
  return {
    format: BASE_FORMAT,
    suite: SUITE,
    variant: 'minbase',
    packages: [...BASE_PACKAGES],
    mirror: mirrors.mirror,
    sources: renderHostSources(mirrors, SUITE),
    controllerKey,
  };
}

/** false if the cached base is missing, incomplete or built for a different package list/key/format. */
export async function baseIsCurrent(paths: LabPaths, want: BaseMarker): Promise<boolean> {
  const have = await readJson<BaseMarker>(paths.baseMarker);
  return have !== null && JSON.stringify(have) === JSON.stringify(want);
}

/** Unmounts whatever an interrupted debootstrap left mounted under `dir`, then removes it. */
export async function removeTree(dir: string, tools: LabTools): Promise<void> {
  for (const mp of await mountsUnder(dir)) {
    await run(tools.umount, [mp], { allowFailure: true });
    for (const left of await mountsUnder(mp))
      await run(tools.umount, ['-l', left], { allowFailure: true });
  }
  if ((await mountsUnder(dir)).length > 0)
    throw new Error(`cannot remove ${dir}: something is still mounted under it`);
  // --one-file-system: never descend into a mount we failed to see
  await run('rm', ['-rf', '--one-file-system', dir]);
}

/**
 * Builds the base root filesystem with debootstrap into a temporary directory, customises it and
 * renames it into place, so an interrupted build is never mistaken for a cache.
 * The caller must make sure no host is mounted on the old base.
 */
export async function buildBase(
  paths: LabPaths,
  tools: LabTools,
  want: BaseMarker,
  log: (line: string) => void,
): Promise<void> {
  await mkdir(paths.root, { recursive: true });
  for (const name of await readdir(paths.root)) {
    if (name.startsWith('base.tmp-') || name.startsWith('base.old-'))
      await removeTree(path.join(paths.root, name), tools);
  }
  const tmp = path.join(paths.root, `base.tmp-${process.pid}`);
  const buildLog = path.join(paths.root, 'base-build.log');
  await writeFile(buildLog, '');
  await mkdir(paths.debootstrapCache, { recursive: true });
  log(
    `building the base root filesystem (debootstrap ${SUITE} from ${want.mirror}); log: ${buildLog}`,
  );
  const milestone =
    /^I: (Retrieving (In)?Release|Installing core packages|Unpacking the base system|Configuring the base system|Base system installed)/;
  let pending = '';
  try {
    await run(
      tools.debootstrap,
      [
        '--variant=minbase',
        `--include=${want.packages.join(',')}`,
        `--cache-dir=${paths.debootstrapCache}`,
        SUITE,
        tmp,
        want.mirror,
      ],
      {
        timeoutMs: 30 * 60_000,
        onLine: (line) => {
          pending += `${line}\n`;
          if (milestone.test(line)) log(`  ${line.slice(3)}`);
        },
      },
    );
  } catch (e) {
    await appendFile(buildLog, pending);
    throw new Error(
      `building the lab's base with debootstrap failed (log: ${buildLog}): ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  await appendFile(buildLog, pending);
  await customise(tmp, tools, want);
  await writeJson(path.join(tmp, path.relative(paths.base, paths.baseMarker)), want);
  if ((await mountsUnder(tmp)).length > 0) throw new Error(`debootstrap left mounts under ${tmp}`);
  const old = path.join(paths.root, `base.old-${process.pid}`);
  const hadOld = await rename(paths.base, old).then(
    () => true,
    (e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    },
  );
  await rename(tmp, paths.base);
  if (hadOld) await removeTree(old, tools);
  log('base root filesystem ready');
}

async function customise(base: string, tools: LabTools, want: BaseMarker): Promise<void> {
  const p = (rel: string) => path.join(base, rel);
  // every host gets its own machine id (systemd makes one at first boot) and its own host keys
  await writeFile(p('etc/machine-id'), '');
  await rm(p('var/lib/dbus/machine-id'), { force: true });
  await symlink('/etc/machine-id', p('var/lib/dbus/machine-id'));
  for (const name of await readdir(p('etc/ssh'))) {
    if (name.startsWith('ssh_host_')) await rm(p(`etc/ssh/${name}`));
  }
  // debootstrap copied the controller's; systemd-nspawn --resolv-conf=replace-host writes the real one
  await rm(p('etc/resolv.conf'), { force: true });
  await writeFile(p('etc/hostname'), 'localhost\n');
  await writeFile(p('etc/hosts'), hostsFile(null, null));
  await writeFile(p('etc/apt/sources.list'), want.sources);
  // C.UTF-8 is built into libc; without a default locale pam_env complains at every login
  await writeFile(p('etc/default/locale'), 'LANG=C.UTF-8\n');
  // debootstrap leaves every .deb it installed in apt's cache
  for (const name of await readdir(p('var/cache/apt/archives'))) {
    if (name.endsWith('.deb')) await rm(p(`var/cache/apt/archives/${name}`));
  }
  await writeFile(
    p('etc/ssh/sshd_config.d/00-fleetbook-lab.conf'),
    '# fleetbook lab: keys only\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n',
  );
  for (const unit of MASKED_UNITS) {
    await rm(p(`etc/systemd/system/${unit}`), { force: true });
    await symlink('/dev/null', p(`etc/systemd/system/${unit}`));
    await rm(p(`etc/systemd/system/timers.target.wants/${unit}`), { force: true });
  }

  // root and deploy accept the controller's key
  await authorize(p('root'), want.controllerKey, 0, 0);
  await run(tools.chroot, [
    base,
    'useradd',
    '--create-home',
    '--shell',
    '/bin/bash',
    '--comment',
    'fleetbook lab',
    DEPLOY_USER,
  ]);
  const passwd = await readFile(p('etc/passwd'), 'utf8');
  const entry = passwd
    .split('\n')
    .find((l) => l.startsWith(`${DEPLOY_USER}:`))
    ?.split(':');
  const uid = Number(entry?.[2]);
  const gid = Number(entry?.[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`useradd ${DEPLOY_USER} did not create the user`);
  await authorize(p(`home/${DEPLOY_USER}`), want.controllerKey, uid, gid);
  const sudoers = p(`etc/sudoers.d/${DEPLOY_USER}`);
  await writeFile(
    sudoers,
    `# fleetbook lab: ${DEPLOY_USER} may become root without a password\n${DEPLOY_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n`,
  );
  await chmod(sudoers, 0o440);
  await run(tools.chroot, [base, 'visudo', '-c', '-q', '-f', `/etc/sudoers.d/${DEPLOY_USER}`]);
}

async function authorize(home: string, key: string, uid: number, gid: number): Promise<void> {
  const dir = path.join(home, '.ssh');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o700);
  await writeFile(path.join(dir, 'authorized_keys'), `${key}\n`, { mode: 0o600 });
  await chmod(path.join(dir, 'authorized_keys'), 0o600);
  await chown(dir, uid, gid);
  await lchown(path.join(dir, 'authorized_keys'), uid, gid);
}

/** `/etc/hosts` for a host (or for the base when name is null). */
export function hostsFile(name: string | null, address: string | null): string {
  const lines = ['127.0.0.1\tlocalhost'];
  if (name !== null && address !== null) lines.push(`${address}\t${name}`);
  lines.push(
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  );
  return `${lines.join('\n')}\n`;
}
