import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import SSHConfig from 'ssh-config';
import { ConfigError } from '../core/errors.ts';
import { displayPath, expandHome } from '../core/paths.ts';

/**
 * What OpenSSH's client config (`~/.ssh/config`) says about one host, for the options fleetbook
 * honours: HostName, Port, User, IdentityFile and ProxyJump. Anything the config leaves unsaid is
 * absent, so the inventory's own values and fleetbook's defaults apply.
 */
export interface SshConfigEntry {
  readonly hostName?: string;
  readonly port?: number;
  readonly user?: string;
  /** Every IdentityFile line, `~` and `%` tokens expanded, in the config's order. */
  readonly identityFiles: readonly string[];
  /** The ProxyJump hops, first hop first; `[]` for `ProxyJump none` or none given. */
  readonly proxyJump: readonly JumpSpec[];
}

/** One `[user@]host[:port]` (or `ssh://[user@]host[:port]`) of a ProxyJump list. */
export interface JumpSpec {
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
}

export interface SshConfigFile {
  readonly path: string;
  lookup(host: string, user: string | undefined): SshConfigEntry;
}

/** The same as OpenSSH's `~` and a missing file: no config, not an error. `none` reads nothing (`ssh -F none`). */
export function readSshConfig(path: string): SshConfigFile | undefined {
  if (path === 'none') return undefined;
  const file = expandHome(path);
  if (!existsSync(file)) return undefined;
  const config = SSHConfig.parse(readFileSync(file, 'utf8'));
  return {
    path: file,
    lookup(host, user) {
      // Match exec would run commands from the config while merely loading an inventory.
      const raw = config.compute(user === undefined ? { Host: host } : { Host: host, User: user }, {
        ignoreCase: true,
        matchExec: false,
      });
      return entryOf(raw, host, user, file);
    },
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function entryOf(
  raw: Record<string, string | string[]>,
  host: string,
  user: string | undefined,
  file: string,
): SshConfigEntry {
  const hostName = first(raw.hostname);
  const portText = first(raw.port);
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
    throw new ConfigError(
      `Port ${JSON.stringify(portText)} for host ${host} is not a port number`,
      {
        file: displayPath(file),
      },
    );
  const configUser = first(raw.user);
  const remoteUser = configUser ?? user ?? 'root';
  const tokens = {
    h: hostName === undefined ? host : expandTokens(hostName, { h: host, n: host }),
    n: host,
  };
  const identity = raw.identityfile;
  const identityFiles = (
    Array.isArray(identity) ? identity : identity === undefined ? [] : [identity]
  )
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandHome(expandTokens(f, { ...tokens, r: remoteUser, p: String(port ?? 22) })));
  const jump = first(raw.proxyjump);
  return {
    ...(hostName !== undefined ? { hostName: tokens.h } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(configUser !== undefined ? { user: configUser } : {}),
    identityFiles,
    proxyJump:
      jump === undefined
        ? []
        : parseProxyJump(jump, `ProxyJump for host ${host}`, displayPath(file)),
  };
}

/** OpenSSH's `%` tokens that make sense before connecting; an unknown one is kept as written. */
function expandTokens(text: string, known: Readonly<Record<string, string>>): string {
  const all: Record<string, string> = {
    '%': '%',
    d: homedir(),
    u: userInfo().username,
    ...known,
  };
  return text.replace(/%(.)/g, (whole, t: string) => all[t] ?? whole);
}

/** `ProxyJump` syntax: comma-separated hops, or `none`. */
export function parseProxyJump(value: string, where: string, file: string): JumpSpec[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((part) => {
    const hop = part.trim().replace(/^ssh:\/\//, '');
    const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s[\]]+)(?::(\d+))?$/.exec(hop);
    const host = m?.[2]?.replace(/^\[|\]$/g, '');
    const port = m?.[3] === undefined ? undefined : Number(m[3]);
    if (m === null || host === undefined || (port !== undefined && (port < 1 || port > 65535)))
      throw new ConfigError(`${where}: ${JSON.stringify(part.trim())} is not [user@]host[:port]`, {
        file,
      });
    return {
      host,
      ...(m[1] !== undefined ? { user: m[1] } : {}),
      ...(port !== undefined ? { port } : {}),
    };
  });
}
