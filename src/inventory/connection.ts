import { existsSync } from 'node:fs';
import { expandHome } from '../core/paths.ts';
import { ConfigError } from '../core/errors.ts';
import { parseProxyJump, type JumpSpec, type SshConfigFile } from '../transport/ssh-config.ts';
import type { SshHop } from '../transport/types.ts';
import type { HostEntry, InventoryDefaults } from './schema.ts';

/** How fleetbook reaches one host: the inventory first, then `~/.ssh/config`, then the defaults. */
export interface HostConnection extends SshHop {
  /** Where the key came from, for error messages: `hosts.web1.key` or `defaults.key` (a key from the ssh config was chosen because it exists). */
  readonly keyField?: string;
  /** Hosts to jump through, first hop first; empty for a direct connection. */
  readonly jumps: readonly SshHop[];
}

/** OpenSSH follows a jump host's own ProxyJump; a chain this long is a loop in the config. */
const MAX_JUMPS = 8;

/** OpenSSH skips IdentityFile lines whose file does not exist (and then uses the agent). */
function existingIdentity(files: readonly string[]): string | undefined {
  return files.find((f) => existsSync(f));
}

/**
 * Resolve a host's address, port, user, key and jump hosts. Values the inventory gives win, as
 * Ansible's `ansible_user` and `ansible_port` win over ssh_config; HostName, like OpenSSH's, renames
 * the address fleetbook would connect to.
 */
export function resolveConnection(
  name: string,
  h: HostEntry,
  defaults: InventoryDefaults,
  ssh: SshConfigFile | undefined,
  file: string,
): HostConnection {
  const target = h.address ?? name;
  const cfg = ssh?.lookup(target, h.user ?? defaults.user);
  const explicitKey = h.key ?? defaults.key;
  const configKey = cfg === undefined ? undefined : existingIdentity(cfg.identityFiles);
  const key = explicitKey !== undefined ? expandHome(explicitKey) : configKey;
  const keyField =
    h.key !== undefined
      ? `hosts.${name}.key`
      : defaults.key !== undefined
        ? 'defaults.key'
        : undefined;
  const jumpText = h.proxyJump ?? defaults.proxyJump;
  const field = h.proxyJump !== undefined ? `hosts.${name}.proxyJump` : 'defaults.proxyJump';
  const specs =
    jumpText !== undefined ? parseProxyJump(jumpText, field, file) : (cfg?.proxyJump ?? []);
  return {
    address: cfg?.hostName ?? target,
    port: h.port ?? defaults.port ?? cfg?.port ?? 22,
    user: h.user ?? defaults.user ?? cfg?.user ?? 'root',
    key,
    ...(keyField !== undefined ? { keyField } : {}),
    jumps: resolveJumps(specs, defaults, ssh, [name]),
  };
}

function resolveJumps(
  specs: readonly JumpSpec[],
  defaults: InventoryDefaults,
  ssh: SshConfigFile | undefined,
  trail: readonly string[],
): SshHop[] {
  const [head, ...rest] = specs;
  if (head === undefined) return [];
  if (trail.length > MAX_JUMPS || trail.includes(head.host))
    throw new ConfigError(`ProxyJump loop: ${[...trail, head.host].join(' -> ')}`, {
      file: ssh?.path ?? '~/.ssh/config',
    });
  const hop = (spec: JumpSpec): { hop: SshHop; own: readonly JumpSpec[] } => {
    const cfg = ssh?.lookup(spec.host, spec.user);
    const key = cfg === undefined ? undefined : existingIdentity(cfg.identityFiles);
    return {
      hop: {
        address: cfg?.hostName ?? spec.host,
        port: spec.port ?? cfg?.port ?? 22,
        user: spec.user ?? cfg?.user ?? defaults.user ?? 'root',
        key: key ?? (defaults.key !== undefined ? expandHome(defaults.key) : undefined),
      },
      // `Host *` with a ProxyJump matches the jump host too; a hop that names itself is direct.
      own: cfg?.proxyJump[0]?.host === spec.host ? [] : (cfg?.proxyJump ?? []),
    };
  };
  // Like `ssh -J a,b`: the first hop is reached the way `ssh a` would reach it (its own
  // ProxyJump included); the later hops through the earlier ones.
  const first = hop(head);
  return [
    ...resolveJumps(first.own, defaults, ssh, [...trail, head.host]),
    first.hop,
    ...rest.map((s) => hop(s).hop),
  ];
}
