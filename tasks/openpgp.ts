// The fingerprints of the primary keys in an OpenPGP public key (RFC 4880 v4, RFC 9580 v6), to
// check a repository key fetched from a URL against the one the playbook names. Only the packet
// framing and the fingerprint hash are needed: nothing is verified or decrypted here.
import { createHash } from 'node:crypto';

const ARMOR =
  /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/;

/** The key's bytes: an ASCII-armored block decoded, or the bytes as they are. */
export function dearmor(key: Buffer): Buffer {
  const m = ARMOR.exec(key.toString('latin1'));
  if (m === null) return key;
  const lines = (m[1] ?? '').split(/\r?\n/);
  // Armor headers ("Comment: ...") end at the first blank line, if there are any.
  const blank = lines.findIndex((l) => l.trim() === '');
  const hasHeaders = blank >= 0 && lines.slice(0, blank).every((l) => /^[A-Za-z-]+: /.test(l));
  const body = (hasHeaders ? lines.slice(blank + 1) : lines).filter(
    (l) => l.trim() !== '' && !l.startsWith('='),
  );
  return Buffer.from(body.join(''), 'base64');
}

interface Packet {
  readonly tag: number;
  readonly body: Buffer;
}

function packets(bytes: Buffer): Packet[] {
  const out: Packet[] = [];
  let at = 0;
  while (at < bytes.length) {
    const b = bytes[at] ?? 0;
    if ((b & 0x80) === 0) throw new Error(`not an OpenPGP key (byte ${at} is no packet header)`);
    let tag: number;
    let len: number;
    if ((b & 0x40) !== 0) {
      tag = b & 0x3f;
      const l1 = bytes[at + 1] ?? 0;
      if (l1 < 192) [len, at] = [l1, at + 2];
      else if (l1 < 224) [len, at] = [((l1 - 192) << 8) + (bytes[at + 2] ?? 0) + 192, at + 3];
      else if (l1 === 255) [len, at] = [bytes.readUInt32BE(at + 2), at + 6];
      else throw new Error('not an OpenPGP key (a partial-length packet)');
    } else {
      tag = (b >> 2) & 0x0f;
      const type = b & 3;
      if (type === 0) [len, at] = [bytes[at + 1] ?? 0, at + 2];
      else if (type === 1) [len, at] = [bytes.readUInt16BE(at + 1), at + 3];
      else if (type === 2) [len, at] = [bytes.readUInt32BE(at + 1), at + 5];
      else [len, at] = [bytes.length - at - 1, at + 1];
    }
    if (at + len > bytes.length) throw new Error('not an OpenPGP key (a packet runs past the end)');
    out.push({ tag, body: bytes.subarray(at, at + len) });
    at += len;
  }
  return out;
}

/** Upper-case hex fingerprints of the primary public keys (packet tag 6), in order. */
export function keyFingerprints(key: Buffer): string[] {
  return packets(dearmor(key))
    .filter((p) => p.tag === 6)
    .map(({ body }) => {
      const version = body[0];
      const head =
        version === 4
          ? Buffer.from([0x99, body.length >> 8, body.length & 0xff])
          : Buffer.concat([Buffer.from([0x9b]), uint32(body.length)]);
      const hash = version === 4 ? 'sha1' : 'sha256';
      return createHash(hash).update(head).update(body).digest('hex').toUpperCase();
    });
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
