import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  readonly line: number;
  readonly patterns: string;
  readonly keyType: string;
  readonly key: Buffer;
  /** `@revoked`: this key is refused for the hosts it names, whatever else the file says. */
  readonly revoked: boolean;
}

export type HostKeyVerdict =
  | { readonly kind: 'known' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'changed'; readonly line: number }
  | { readonly kind: 'revoked'; readonly line: number };

/**
 * Parse an OpenSSH known_hosts file: plain and hashed host patterns, `!pattern` negations, and the
 * `@revoked` marker. `@cert-authority` lines (host certificates) are not supported and skipped.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let revoked = false;
    if (line.startsWith('@')) {
      const [marker = '', ...rest] = line.split(/\s+/);
      if (marker !== '@revoked') return;
      revoked = true;
      line = rest.join(' ');
    }
    const [patterns, keyType, b64] = line.split(/\s+/);
    if (patterns === undefined || keyType === undefined || b64 === undefined) return;
    entries.push({ line: i + 1, patterns, keyType, key: Buffer.from(b64, 'base64'), revoked });
  });
  return entries;
}

/** The name OpenSSH records for a host: `addr`, or `[addr]:port` when the port is not 22. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function matches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (salt === undefined || hash === undefined) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  const glob = (p: string): boolean =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(name);
  const list = patterns.split(',');
  // As in OpenSSH: a matching negated pattern vetoes the whole line, even if another one matches.
  if (list.some((p) => p.startsWith('!') && glob(p.slice(1)))) return false;
  return list.some((p) => !p.startsWith('!') && glob(p));
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

/** Like OpenSSH: a key of the same type recorded for this host but different means the key changed. */
export function verifyHostKey(
  entries: readonly KnownHostEntry[],
  address: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = hostPattern(address, port);
  const type = keyTypeOf(key);
  const applying = entries.filter((e) => matches(e.patterns, name));
  const revoked = applying.find((e) => e.revoked && e.key.equals(key));
  if (revoked !== undefined) return { kind: 'revoked', line: revoked.line };
  let changed: number | undefined;
  for (const e of applying) {
    if (e.revoked) continue;
    if (e.key.equals(key)) return { kind: 'known' };
    if (e.keyType === type) changed ??= e.line;
  }
  return changed !== undefined ? { kind: 'changed', line: changed } : { kind: 'unknown' };
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export function knownHostsLine(address: string, port: number, key: Buffer): string {
  return `${hostPattern(address, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
}
