import { raw, type Script } from './shell.ts';

/** What fleetbook knows about a host's system, read in one round trip (`fleetbook facts`). */
export interface HostFacts {
  readonly os: {
    /** os-release ID: "debian", "ubuntu". */
    readonly id: string;
    /** VERSION_ID: "12". */
    readonly version: string;
    /** VERSION_CODENAME: "bookworm". */
    readonly codename: string;
    readonly prettyName: string;
  };
  /** The package architecture ("amd64"), or the machine's (`uname -m`) without dpkg. */
  readonly architecture: string;
  readonly kernel: string;
  readonly hostname: string;
  /** `hostname -f`: the host's own idea of its fully qualified name (its hostname without one). */
  readonly fqdn: string;
  readonly cpus: number;
  readonly memoryMb: number;
  /** The interface of the default route and its address, or null without a default route. */
  readonly ipv4: NetworkAddress | null;
  readonly ipv6: NetworkAddress | null;
  /** What runs as PID 1: "systemd", "init". */
  readonly init: string;
}

export interface NetworkAddress {
  readonly interface: string;
  readonly address: string;
}

const MARK = '@@fbf';
const SECTIONS = {
  'os-release': 'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null',
  kernel: 'uname -r',
  machine: 'uname -m',
  dpkg: 'dpkg --print-architecture 2>/dev/null',
  hostname: 'cat /proc/sys/kernel/hostname',
  fqdn: 'hostname -f 2>/dev/null',
  cpus: 'nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo',
  meminfo: 'grep ^MemTotal: /proc/meminfo',
  route: 'cat /proc/net/route 2>/dev/null',
  fib: 'cat /proc/net/fib_trie 2>/dev/null',
  route6: 'cat /proc/net/ipv6_route 2>/dev/null',
  inet6: 'cat /proc/net/if_inet6 2>/dev/null',
  init: 'cat /proc/1/comm 2>/dev/null',
} as const;
type Section = keyof typeof SECTIONS;

/**
 * One read-only script for every fact, from /proc and coreutils only (a minimal Debian has no
 * `ip`), each part under a marker line so one missing tool costs only its own fact.
 */
export const FACTS_SCRIPT: Script = raw(
  Object.entries(SECTIONS)
    .map(([name, cmd]) => `echo '${MARK} ${name}'; { ${cmd}; } || true`)
    .join('\n'),
);

function sections(output: string): Map<Section, string> {
  const out = new Map<Section, string>();
  let current: Section | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (current !== undefined) out.set(current, lines.join('\n'));
  };
  for (const line of output.split('\n')) {
    if (line.startsWith(`${MARK} `)) {
      flush();
      current = line.slice(MARK.length + 1).trim() as Section;
      lines = [];
    } else lines.push(line);
  }
  flush();
  return out;
}

/** os-release is shell-quoted KEY=value lines; read, never sourced. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] === undefined || m[2] === undefined) continue;
    let v = m[2];
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2)
      v = v.slice(1, -1).replace(/\\([\\$"`])/g, '$1');
    else if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** /proc/net/route holds IPv4 addresses as little-endian hex. */
function hexToIpv4(hex: string): number {
  const n = Number.parseInt(hex, 16);
  return ((n & 0xff) << 24) | (((n >> 8) & 0xff) << 16) | (((n >> 16) & 0xff) << 8) | (n >>> 24);
}

function ipv4ToNumber(a: string): number {
  return a.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0) | 0;
}

/** The default IPv4 route's interface, and the host's own address in one of that interface's subnets. */
export function defaultIpv4(route: string, fib: string): NetworkAddress | null {
  const rows = route
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((r) => r.length >= 8);
  const def = rows
    .filter((r) => r[1] === '00000000' && r[7] === '00000000')
    .sort((a, b) => Number(a[6]) - Number(b[6]))[0];
  const iface = def?.[0];
  if (iface === undefined) return null;
  const subnets = rows
    .filter((r) => r[0] === iface && r[7] !== '00000000')
    .map((r) => ({ net: hexToIpv4(r[1] ?? '0'), mask: hexToIpv4(r[7] ?? '0') }));
  // fib_trie: "|-- 192.0.2.2" then "/32 host LOCAL" marks an address of this host.
  const lines = fib.split('\n');
  const locals = new Set<string>();
  lines.forEach((l, i) => {
    const m = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(l);
    if (m?.[1] !== undefined && /^\s*\/32 host LOCAL/.test(lines[i + 1] ?? '')) locals.add(m[1]);
  });
  const address = [...locals].find((a) =>
    subnets.some((s) => (ipv4ToNumber(a) & s.mask) === (s.net & s.mask)),
  );
  return address === undefined ? null : { interface: iface, address };
}

/** 32 hex digits to the usual compressed IPv6 form. */
export function ipv6FromHex(hex: string): string {
  const groups = (hex.match(/.{4}/g) ?? []).map((g) => Number.parseInt(g, 16).toString(16));
  // The longest run of two or more zero groups becomes "::".
  let best = { at: -1, len: 0 };
  for (let i = 0; i < groups.length;) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/** The default IPv6 route's interface, and its first global address. */
export function defaultIpv6(route6: string, inet6: string): NetworkAddress | null {
  const def = route6
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((r) => r.length >= 10 && /^0{32}$/.test(r[0] ?? '') && r[1] === '00')
    .sort((a, b) => Number.parseInt(a[5] ?? '0', 16) - Number.parseInt(b[5] ?? '0', 16))[0];
  const iface = def?.[9];
  if (iface === undefined || iface === 'lo') return null;
  const global = inet6
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((r) => r[5] === iface && r[3] === '00');
  return global?.[0] === undefined ? null : { interface: iface, address: ipv6FromHex(global[0]) };
}

/** Facts from FACTS_SCRIPT's output. A part a host could not answer is "" (or 0, or null). */
export function parseHostFacts(output: string): HostFacts {
  const s = sections(output);
  const get = (k: Section): string => (s.get(k) ?? '').trim();
  const os = parseOsRelease(get('os-release'));
  const hostname = get('hostname');
  const memKb = Number(/MemTotal:\s+(\d+)\s*kB/.exec(get('meminfo'))?.[1] ?? 0);
  return {
    os: {
      id: os.ID ?? '',
      version: os.VERSION_ID ?? '',
      codename: os.VERSION_CODENAME ?? '',
      prettyName: os.PRETTY_NAME ?? '',
    },
    architecture: get('dpkg') || get('machine'),
    kernel: get('kernel'),
    hostname,
    fqdn: get('fqdn') || hostname,
    cpus: Number(get('cpus')) || 0,
    memoryMb: Math.floor(memKb / 1024),
    ipv4: defaultIpv4(get('route'), get('fib')),
    ipv6: defaultIpv6(get('route6'), get('inet6')),
    init: get('init'),
  };
}
