import { run, which } from './exec.ts';

export interface LabTools {
  debootstrap: string;
  nspawn: string;
  sshKeygen: string;
  ssh: string;
  mount: string;
  umount: string;
  chroot: string;
  nsenter: string;
}

/** command → the Debian package that provides it */
const PACKAGES: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  mount: 'mount',
  umount: 'mount',
  chroot: 'coreutils',
  nsenter: 'util-linux',
};

let cached: LabTools | null = null;

export function assertRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      'the fleetbook lab needs root (it mounts overlays and boots systemd-nspawn containers); run it as root',
    );
  }
}

/**
 * Finds the commands the lab needs and installs the missing ones with apt-get
 * (a fresh CI machine has none of them).
 */
export async function ensureTools(log: (line: string) => void): Promise<LabTools> {
  if (cached !== null) return cached;
  assertRoot();
  const missing = new Set<string>();
  for (const [cmd, pkg] of Object.entries(PACKAGES)) {
    if ((await which(cmd)) === null) missing.add(pkg);
  }
  if (missing.size > 0) {
    const pkgs = [...missing].sort();
    const aptGet = await which('apt-get');
    if (aptGet === null) {
      throw new Error(
        `the lab needs these packages and apt-get is not available to install them: ${pkgs.join(', ')}`,
      );
    }
    log(`installing ${pkgs.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run(aptGet, ['update'], { env, timeoutMs: 10 * 60_000 });
      await run(aptGet, ['install', '-y', '--no-install-recommends', ...pkgs], {
        env,
        timeoutMs: 15 * 60_000,
      });
    } catch (e) {
      throw new Error(
        `could not install the lab's tools (${pkgs.join(', ')}): ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }
  const need = async (cmd: string): Promise<string> => {
    const found = await which(cmd);
    if (found === null)
      throw new Error(
        `the lab needs \`${cmd}\` (Debian package ${PACKAGES[cmd] ?? cmd}) and it is still missing`,
      );
    return found;
  };
  cached = {
    debootstrap: await need('debootstrap'),
    nspawn: await need('systemd-nspawn'),
    sshKeygen: await need('ssh-keygen'),
    ssh: await need('ssh'),
    mount: await need('mount'),
    umount: await need('umount'),
    chroot: await need('chroot'),
    nsenter: await need('nsenter'),
  };
  return cached;
}
