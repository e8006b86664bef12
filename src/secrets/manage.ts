import { readFile, unlink } from 'node:fs/promises';
import { ConfigError } from '../core/errors.ts';
import { displayPath } from '../core/paths.ts';
import { withStateLock } from '../state/lock.ts';
import {
  checkRecipientKey,
  readRecipients,
  writeRecipients,
  type Recipient,
} from './recipients.ts';
import { updateSecrets } from './store.ts';
import {
  exists,
  legacyFile,
  parseValues,
  readVault,
  recipientsFile,
  secretsFile,
  writeVault,
} from './vault.ts';

/** Re-encrypts with a new file key to the recipients listed now (after one left, or after the list was edited by hand). */
export async function rotate(environment: string): Promise<string> {
  if (!(await exists(secretsFile(environment))))
    throw new ConfigError(`environment "${environment}" has no secrets to re-encrypt`);
  return updateSecrets(environment, (values) => values);
}

export async function listRecipients(environment: string): Promise<Recipient[]> {
  return readRecipients(recipientsFile(environment));
}

/**
 * Adds or removes a recipient and re-encrypts what is stored for the new list, so the change
 * takes effect in the file the team commits, not only in the list.
 */
export async function changeRecipients(
  environment: string,
  change: { add: Recipient } | { remove: string },
): Promise<Recipient[]> {
  const file = recipientsFile(environment);
  return withStateLock(secretsFile(environment), async () => {
    // Read while the old list still opens the file: after the change it may not.
    const values = (await exists(secretsFile(environment)))
      ? await readVault(environment)
      : undefined;
    const list = await readRecipients(file);
    let next: Recipient[];
    if ('add' in change) {
      await checkRecipientKey(change.add.key);
      if (list.some((r) => r.key === change.add.key))
        throw new ConfigError(`${change.add.key} is already a recipient of "${environment}"`);
      next = [...list, change.add];
    } else {
      next = list.filter((r) => r.key !== change.remove);
      if (next.length === list.length)
        throw new ConfigError(`${change.remove} is not a recipient of "${environment}"`, {
          file: displayPath(file),
        });
      if (next.length === 0)
        throw new ConfigError(
          `${change.remove} is the last recipient of "${environment}": nobody could read its secrets`,
        );
    }
    // Each file is replaced whole, the secrets first (nothing changes if encrypting fails); a
    // failure between the two leaves the list to correct by hand, then `secret rotate`.
    if (values !== undefined) await writeVault(environment, values, next);
    await writeRecipients(file, next);
    return next;
  });
}

/** Encrypts the plain JSON file of fleetbook before age, then deletes it. */
export async function migrate(
  environment: string,
): Promise<{ from: string; to: string; count: number }> {
  const from = legacyFile(environment);
  if (await exists(secretsFile(environment)))
    throw new ConfigError(
      `environment "${environment}" already has ${displayPath(secretsFile(environment))}: merge by hand with \`fleetbook secret edit ${environment}\``,
    );
  let text: string;
  try {
    text = await readFile(from, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ConfigError(`nothing to migrate: no ${displayPath(from)}`);
    throw err;
  }
  const values = parseValues(text, 'the secrets', from);
  const to = secretsFile(environment);
  await withStateLock(to, () => writeVault(environment, values));
  // Read back to compare, when this identity can (the listed recipients may all be others): the
  // clear file stays if what comes back differs.
  const back = await readVault(environment).catch(() => undefined);
  if (back !== undefined && JSON.stringify(back) !== JSON.stringify(values))
    throw new ConfigError(
      `the encrypted file does not hold what ${displayPath(from)} did; kept both`,
    );
  await unlink(from);
  return { from, to, count: Object.keys(values).length };
}
