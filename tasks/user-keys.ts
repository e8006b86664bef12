// ensureUser's authorized_keys: the pure edit of the file's lines, and the changes that make
// ~/.ssh and the file, owned by the user, as sshd's StrictModes wants them.
import { attributeChange, planFile, Type, type Change, type FileFact } from 'fleetbook';
import { createDir } from './ensureDir.ts';

/** A key type sshd accepts, as the word before the base64 key. */
const KEY_TYPE =
  /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/;

export const AuthorizedKey = Type.String({
  pattern:
    '^[^\\n\\r]*(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9-]+@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^\\n\\r]*)?$',
  description: 'one authorized_keys line: [options] TYPE BASE64 [comment]',
});

/** `TYPE BASE64` of an authorized_keys line (its options and comment left out), or null. */
export function keyIdentity(line: string): string | null {
  // Options come first and may hold quoted spaces; the key is the first known type word.
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((w) => KEY_TYPE.test(w));
  const blob = at < 0 ? undefined : words[at + 1];
  return blob === undefined ? null : `${words[at] ?? ''} ${blob}`;
}

/**
 * The file's new text: with `exclusive`, exactly `keys`; otherwise the lines there, a line with
 * the same key replaced by the one given (its options or comment changed), the others appended.
 */
export function editKeys(current: string, keys: readonly string[], exclusive: boolean): string {
  const wanted = keys.map((k) => k.trim());
  if (exclusive) return wanted.map((k) => `${k}\n`).join('');
  const byId = new Map(wanted.map((k) => [keyIdentity(k), k]));
  const lines = current === '' ? [] : current.replace(/\n$/, '').split('\n');
  const placed = new Set<string>();
  const out = lines.map((line) => {
    const id = keyIdentity(line);
    const want = id === null ? undefined : byId.get(id);
    if (want === undefined || id === null || placed.has(id)) return line;
    placed.add(id);
    return want;
  });
  for (const k of wanted) if (!placed.has(keyIdentity(k) ?? '')) out.push(k);
  return out.map((l) => `${l}\n`).join('');
}

export interface KeysWanted {
  readonly user: string;
  readonly group: string;
  readonly home: string;
  readonly keys: readonly string[];
  readonly exclusive: boolean;
}

export const sshDirOf = (home: string): string => `${home.replace(/\/+$/, '')}/.ssh`;
export const keysFileOf = (home: string): string => `${sshDirOf(home)}/authorized_keys`;

/** ~/.ssh (0700) and authorized_keys (0600), both the user's: the changes, in order. */
export function planKeys(host: string, w: KeysWanted, dir: FileFact, file: FileFact): Change[] {
  const path = sshDirOf(w.home);
  const own = { owner: w.user, group: w.group };
  const changes: Change[] = [];
  if (!dir.exists) {
    changes.push(createDir(path, { mode: '0700', ...own }));
  } else {
    const attrs = attributeChange(dir, { mode: '0700', ...own }, 'directory');
    if (attrs !== null) changes.push(attrs);
  }
  const current = file.content?.toString('utf8') ?? '';
  const keysFile = planFile(host, file, {
    path: keysFileOf(w.home),
    content: editKeys(current, w.keys, w.exclusive),
    mode: '0600',
    ...own,
  });
  if (keysFile !== null) changes.push(keysFile);
  return changes;
}
