import path from 'node:path';

/** Where the lab keeps everything: `/var/lib/fleetbook/lab`, or `$FLEETBOOK_LAB_DIR`. */
export function labRoot(): string {
  const fromEnv = process.env['FLEETBOOK_LAB_DIR'];
  return path.resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : '/var/lib/fleetbook/lab');
}

/** The fleetbook project the lab writes `inventories/lab.yaml` into: `$FLEETBOOK_PROJECT_DIR` or the cwd. */
export function projectDir(): string {
  const fromEnv = process.env['FLEETBOOK_PROJECT_DIR'];
  return path.resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : process.cwd());
}

export const HOST_NAME_PREFIX = 'lab';
/** Host N listens on 127.0.1.N, so at most 254 hosts. */
export const MAX_HOSTS = 254;

export function hostName(index: number): string {
  return `${HOST_NAME_PREFIX}${index}`;
}

export function hostAddress(index: number): string {
  return `127.0.1.${index}`;
}

/** `lab7` → 7; anything else → null. */
export function hostIndex(name: string): number | null {
  const m = /^lab([1-9][0-9]{0,2})$/.exec(name);
  if (m === null || m[1] === undefined) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= MAX_HOSTS ? n : null;
}

export interface LabPaths {
  root: string;
  base: string;
  /** Lives inside the base, so renaming a finished build into place publishes the marker atomically. */
  baseMarker: string;
  debootstrapCache: string;
  hosts: string;
  key: string;
  publicKey: string;
  knownHosts: string;
  inventory: string;
  labState: string;
  lock: string;
  smarthostPassword: string;
  smarthostState: string;
  smarthostReady: string;
  smarthostLog: string;
  mail: string;
}

export function labPaths(root: string = labRoot()): LabPaths {
  const j = (...p: string[]) => path.join(root, ...p);
  return {
    root,
    base: j('base'),
    baseMarker: j('base', 'etc', 'fleetbook', 'lab-base.json'),
    debootstrapCache: j('cache', 'debootstrap'),
    hosts: j('hosts'),
    key: j('id_ed25519'),
    publicKey: j('id_ed25519.pub'),
    knownHosts: j('known_hosts'),
    inventory: j('inventory.yaml'),
    labState: j('lab.json'),
    lock: j('lab.lock'),
    smarthostPassword: j('smarthost.password'),
    smarthostState: j('smarthost.json'),
    smarthostReady: j('smarthost.ready'),
    smarthostLog: j('smarthost.log'),
    mail: j('mail'),
  };
}

export interface HostPaths {
  name: string;
  index: number;
  address: string;
  dir: string;
  /** overlay upperdir: everything the host changed */
  upper: string;
  work: string;
  /** the merged overlay the container boots from */
  rootfs: string;
  /** the host's SSH host keys, kept outside the overlay so a reset keeps them */
  hostKeys: string;
  console: string;
  state: string;
}

export function hostPaths(index: number, root: string = labRoot()): HostPaths {
  const name = hostName(index);
  const dir = path.join(root, 'hosts', name);
  return {
    name,
    index,
    address: hostAddress(index),
    dir,
    upper: path.join(dir, 'up'),
    work: path.join(dir, 'work'),
    rootfs: path.join(dir, 'root'),
    hostKeys: path.join(dir, 'hostkeys'),
    console: path.join(dir, 'console.log'),
    state: path.join(dir, 'state.json'),
  };
}
