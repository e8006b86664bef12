import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  readonly line: number;
  readonly patterns: string;
  readonly keyType: string;
  readonly key: Buffer;
}

export type HostKeyVerdict =
  | { readonly kind: 'known' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'changed'; readonly line: number };

/** Parse an OpenSSH known_hosts file (plain and hashed host patterns; markers like @revoked are skipped). */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('@')) return;
    const [patterns, keyType, b64] = line.split(/\s+/);
    if (patterns === undefined || keyType === undefined || b64 === undefined) return;
    entries.push({ line: i + 1, patterns, keyType, key: Buffer.from(b64, 'base64') });
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
  return patterns.split(',').some((p) => {
    if (p.startsWith('!')) return false;
    const re = new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    return re.test(name);
  });
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
  let changed: number | undefined;
  for (const e of entries) {
    if (!matches(e.patterns, name)) continue;
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
