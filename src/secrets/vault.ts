import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { controllerUser } from '../core/controller-user.ts';
import { ConfigError } from '../core/errors.ts';
import { displayPath } from '../core/paths.ts';
import { projectRoot } from '../core/project.ts';
import { writeAtomic } from '../state/dir.ts';
import { NO_IDENTITY, passphrase, publicKeys, readIdentity } from './identity.ts';
import {
  describeRecipients,
  readRecipients,
  writeRecipients,
  type Recipient,
} from './recipients.ts';

/**
 * An environment's secrets: one age-encrypted file (ASCII armour, safe to commit) holding a JSON
 * object of name -> value, and the list of public keys it is encrypted to. Plaintext exists only in
 * this process's memory: it is never written to the controller's disk.
 */
export function secretsDir(): string {
  return resolve(process.env.FLEETBOOK_SECRETS_DIR ?? join(projectRoot(), 'secrets'));
}

function checkEnvironment(environment: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(environment))
    throw new ConfigError(`environment name "${environment}" cannot name a secrets file`);
}

export function secretsFile(environment: string): string {
  checkEnvironment(environment);
  return join(secretsDir(), `${environment}.age`);
}

export function recipientsFile(environment: string): string {
  checkEnvironment(environment);
  return join(secretsDir(), `${environment}.recipients`);
}

/** Where fleetbook before age kept an environment's secrets, in clear. */
export function legacyFile(environment: string): string {
  checkEnvironment(environment);
  return join(projectRoot(), '.fleetbook', 'secrets', `${environment}.json`);
}

export const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    },
  );

export type Values = Record<string, string>;

/**
 * Loads age's code now if the environment has secrets: before a playbook is imported, the
 * TypeScript hooks are not yet in place, and every import after them is a round trip to their
 * thread (about 15 ms more for age).
 */
export async function preloadCipher(environment: string): Promise<void> {
  let stored = false;
  try {
    stored = await exists(secretsFile(environment));
  } catch {
    // Only a head start: a bad name or an unreadable file is reported where the secrets are read.
  }
  if (stored) await import('age-encryption');
}

/** The decrypted values; {} when the environment has none yet. */
export async function readVault(environment: string): Promise<Values> {
  const file = secretsFile(environment);
  let armored: string;
  try {
    armored = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (await exists(legacyFile(environment)))
      throw new ConfigError(
        `environment "${environment}" keeps its secrets in clear in ${displayPath(legacyFile(environment))}: encrypt them with \`fleetbook secret migrate ${environment}\``,
      );
    return {};
  }
  return parseValues(await decrypt(environment, armored), 'the decrypted secrets', file);
}

/**
 * A JSON object of name -> value. `what` names the text in errors, which never quote it: V8's
 * messages do ("Unexpected token 'x', "{"db": x..." is not valid JSON"), and it holds secrets.
 */
export function parseValues(text: string, what: string, file?: string): Values {
  const source = file === undefined ? {} : { file: displayPath(file) };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    const line = at === undefined ? '' : ` (line ${text.slice(0, Number(at)).split('\n').length})`;
    throw new ConfigError(`${what} are not valid JSON${line}`, source);
  }
  if (
    data === null ||
    typeof data !== 'object' ||
    Array.isArray(data) ||
    Object.values(data).some((v) => typeof v !== 'string')
  )
    throw new ConfigError(`${what} must be a JSON object of name: "value" strings`, source);
  return data as Values;
}

async function decrypt(environment: string, armored: string): Promise<string> {
  const file = secretsFile(environment);
  const { Decrypter, armor } = await import('age-encryption');
  let bytes: Uint8Array;
  try {
    bytes = armor.decode(armored);
  } catch (err) {
    throw new ConfigError(`not an age-encrypted file: ${(err as Error).message}`, {
      file: displayPath(file),
    });
  }
  const identity = await readIdentity();
  const pass = passphrase();
  const d = new Decrypter();
  for (const k of identity?.secretKeys ?? []) d.addIdentity(k);
  if (pass !== undefined) d.addPassphrase(pass);
  const theirs = async (): Promise<string> =>
    `Its recipients:\n${describeRecipients(await readRecipients(recipientsFile(environment)))}`;
  if (identity === undefined && pass === undefined)
    throw new ConfigError(
      `cannot read the secrets of environment "${environment}": ${NO_IDENTITY()}. ${await theirs()}`,
      { file: displayPath(file) },
    );
  try {
    return await d.decrypt(bytes, 'text');
  } catch (err) {
    const mine = identity === undefined ? [] : await publicKeys(identity);
    const tried = [
      ...mine.map((k) => `${k} (${displayPath(identity?.file ?? '')})`),
      ...(pass === undefined ? [] : ['the passphrase in FLEETBOOK_AGE_PASSPHRASE']),
    ].join(', ');
    throw new ConfigError(
      `cannot read the secrets of environment "${environment}" (${(err as Error).message}): tried ${tried}. ${await theirs()}\nA recipient can add your key with: fleetbook secret recipients add ${environment} ${mine[0] ?? 'YOUR_AGE_PUBLIC_KEY'}`,
      { file: displayPath(file) },
    );
  }
}

/**
 * The environment's recipients. An environment with none yet (its first secret) gets the user's
 * own key, so that what is written can be read back; with a passphrase set, none are needed.
 */
async function recipientsFor(environment: string): Promise<Recipient[]> {
  const file = recipientsFile(environment);
  const list = await readRecipients(file);
  if (list.length > 0 || passphrase() !== undefined) return list;
  const identity = await readIdentity();
  if (identity === undefined)
    throw new ConfigError(
      `environment "${environment}" has no recipients to encrypt its secrets to, and ${NO_IDENTITY()}`,
      { file: displayPath(file) },
    );
  const [key] = await publicKeys(identity);
  const own = [{ key: key ?? '', note: controllerUser() }];
  await writeRecipients(file, own);
  return own;
}

/** Encrypts the values to the environment's recipients (or passphrase) and replaces the file at once. */
export async function writeVault(
  environment: string,
  values: Values,
  /** A list about to replace the environment's (recipients add/remove); else the one on disk. */
  to?: readonly Recipient[],
): Promise<void> {
  const file = secretsFile(environment);
  const recipients = to ?? (await recipientsFor(environment));
  const { Encrypter, armor } = await import('age-encryption');
  const e = new Encrypter();
  if (recipients.length > 0) for (const r of recipients) e.addRecipient(r.key);
  else e.setPassphrase(passphrase() ?? '');
  const armored = armor.encode(await e.encrypt(`${JSON.stringify(values, null, 2)}\n`));
  await writeAtomic(file, armored);
}
