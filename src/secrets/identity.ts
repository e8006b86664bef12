import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { displayPath, expandHome } from '../core/paths.ts';

/**
 * The controller user's age identity: the private key that opens the secrets files of every
 * environment that lists its public key. It is the user's, not the project's, so it lives in the
 * user's config directory (or where FLEETBOOK_AGE_IDENTITY says), never in the repository.
 */
export function identityPath(): string {
  const fromEnv = process.env['FLEETBOOK_AGE_IDENTITY'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(expandHome(fromEnv));
  const config = process.env['XDG_CONFIG_HOME'];
  const base = config !== undefined && config !== '' ? config : join(homedir(), '.config');
  return join(base, 'fleetbook', 'age-identity.txt');
}

/** A passphrase for environments encrypted with one instead of recipients (CI, a single operator). */
export function passphrase(): string | undefined {
  const p = process.env['FLEETBOOK_AGE_PASSPHRASE'];
  return p !== undefined && p !== '' ? p : undefined;
}

export interface Identity {
  readonly file: string;
  readonly secretKeys: readonly string[];
}

/** The identity file's keys (as age-keygen writes it: comments, then AGE-SECRET-KEY-1... lines); undefined when there is no file. */
export async function readIdentity(): Promise<Identity | undefined> {
  const file = identityPath();
  let text: string;
  try {
    if (((await stat(file)).mode & 0o077) !== 0)
      throw new ConfigError(
        `age identity is readable by others; run: chmod 600 ${displayPath(file)}`,
        { file: displayPath(file) },
      );
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const secretKeys = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (secretKeys.length === 0 || secretKeys.some((k) => !k.startsWith('AGE-SECRET-KEY-')))
    throw new ConfigError(
      'not an age identity file: expected AGE-SECRET-KEY-... lines (and # comments)',
      { file: displayPath(file) },
    );
  return { file, secretKeys };
}

/** The public keys (recipients) of an identity's secret keys. */
export async function publicKeys(identity: Identity): Promise<string[]> {
  const { identityToRecipient } = await import('age-encryption');
  try {
    return await Promise.all(identity.secretKeys.map((k) => identityToRecipient(k)));
  } catch (err) {
    throw new ConfigError(`age identity is damaged: ${(err as Error).message}`, {
      file: displayPath(identity.file),
    });
  }
}

export const NO_IDENTITY = (): string =>
  `no age identity at ${displayPath(identityPath())}: create one with \`fleetbook secret keygen\`, or set FLEETBOOK_AGE_IDENTITY to an age identity file`;

/** Creates the identity file (0600, in a 0700 directory); refuses to replace one. Returns its public key. */
export async function generateIdentityFile(): Promise<{ file: string; publicKey: string }> {
  const file = identityPath();
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const key = await generateX25519Identity();
  const publicKey = await identityToRecipient(key);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(
      file,
      `# created: ${new Date().toISOString()} by fleetbook secret keygen\n# public key: ${publicKey}\n${key}\n`,
      { mode: 0o600, flag: 'wx' },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ConfigError(
        `an age identity already exists at ${displayPath(file)}: fleetbook never replaces one (the secrets it opens would be lost)`,
      );
    throw err;
  }
  return { file, publicKey };
}
