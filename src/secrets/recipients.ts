import { readFile } from 'node:fs/promises';
import { ConfigError } from '../core/errors.ts';
import { displayPath } from '../core/paths.ts';
import { writeAtomic } from '../state/dir.ts';

/** One line of ENV.recipients: an age public key and what follows it after `#` (whose key it is). */
export interface Recipient {
  readonly key: string;
  readonly note: string;
}

const KEY = /^age1[0-9a-z]+$/;

/** The recipients of an environment, committed beside its secrets: `age1... # who` per line. */
export async function readRecipients(file: string): Promise<Recipient[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Recipient[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const [key = '', ...note] = raw.split('#');
    if (key.trim() === '') continue;
    if (!KEY.test(key.trim()))
      throw new ConfigError(
        `line ${i + 1}: expected an age public key (age1...), optionally followed by # and whose it is`,
        { file: displayPath(file) },
      );
    out.push({ key: key.trim(), note: note.join('#').trim() });
  }
  return out;
}

/** A recipient as a line of ENV.recipients (and of `secret recipients list`). */
export function recipientLine(r: Recipient): string {
  return r.note === '' ? r.key : `${r.key}  # ${r.note}`;
}

export async function writeRecipients(file: string, list: readonly Recipient[]): Promise<void> {
  const body = list.map(recipientLine).join('\n');
  await writeAtomic(
    file,
    `# age public keys that can read this environment's secrets (fleetbook secret recipients)\n${body}\n`,
  );
}

/** A key as age itself reads it: refuses a typo before anything is encrypted to it. */
export async function checkRecipientKey(key: string): Promise<void> {
  const { Encrypter } = await import('age-encryption');
  try {
    if (!KEY.test(key)) throw new Error('expected age1...');
    new Encrypter().addRecipient(key);
  } catch (err) {
    throw new ConfigError(`"${key}" is not an age public key (${(err as Error).message})`);
  }
}

export function describeRecipients(list: readonly Recipient[]): string {
  return list.length === 0
    ? '(none)'
    : list.map((r) => `  ${r.key}${r.note === '' ? '' : `  (${r.note})`}`).join('\n');
}
