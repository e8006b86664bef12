import { randomBytes } from 'node:crypto';
import { ConfigError } from '../core/errors.ts';
import { MIN_SECRET_LENGTH } from '../core/secret-mask.ts';
import { withStateLock } from '../state/lock.ts';
import { displayPath } from '../core/paths.ts';
import type { SecretSpec } from '../core/playbook.ts';
import { readVault, secretsFile, writeVault, type Values } from './vault.ts';

// URL-safe alphabet: the value can be pasted into Python, shell or INI without quoting trouble.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function generateSecret(length: number): string {
  // 64 symbols and a byte mask of 63: every symbol is equally likely (no modulo bias).
  return [...randomBytes(length)].map((b) => ALPHABET[b & 63] ?? 'A').join('');
}

export interface LoadedSecrets {
  readonly values: Record<string, string>;
  /** Generated for this run only, not stored (a --check run changes nothing anywhere). */
  readonly temporary: readonly string[];
  /** Operator secrets not set, given a placeholder (only when asked for: nothing connects). */
  readonly unset: readonly string[];
  /** Why the store could not be read, when placeholders stood in for all of it. */
  readonly unreadable?: string;
}

interface LoadOptions {
  readonly store: boolean;
  /** `--syntax-check` and the listings validate without the secrets a run needs. */
  readonly placeholders?: boolean;
}

/**
 * The playbook's secrets for an environment: generated ones are created on first use and then
 * kept stable; operator ones must have been set. Missing ones are listed in one error. With
 * `store: false` (check mode) a secret not generated yet is made for this run only and not saved.
 */
export async function loadSecrets(
  environment: string,
  specs: Readonly<Record<string, SecretSpec>>,
  opts: LoadOptions = { store: true },
): Promise<LoadedSecrets> {
  const names = Object.keys(specs);
  if (names.length === 0) return { values: {}, temporary: [], unset: [] };
  const file = secretsFile(environment);
  // Two runs generating the same secret at once must end with one value, the one both use.
  return opts.store
    ? withStateLock(file, () => load(environment, names, specs, opts))
    : load(environment, names, specs, opts);
}

async function load(
  environment: string,
  names: readonly string[],
  specs: Readonly<Record<string, SecretSpec>>,
  opts: LoadOptions,
): Promise<LoadedSecrets> {
  let store: Values;
  let unreadable: string | undefined;
  try {
    store = await readVault(environment);
  } catch (err) {
    // Validating a playbook needs no secret value: a CI job without the key can still do it.
    if (opts.placeholders !== true || !(err instanceof ConfigError)) throw err;
    store = {};
    unreadable = err.message;
  }
  const missing: string[] = [];
  const unset: string[] = [];
  const generated: string[] = [];
  for (const name of names) {
    const spec = specs[name];
    if (spec === undefined || store[name] !== undefined) continue;
    if ('generate' in spec) {
      store[name] = generateSecret(spec.generate.length);
      generated.push(name);
    } else if (opts.placeholders === true) {
      store[name] = `unset-secret-${name}`;
      unset.push(name);
    } else {
      missing.push(
        `  ${name}: ${spec.operator.description}\n    set it with: fleetbook secret set ${environment} ${name}   (reads the value from standard input)`,
      );
    }
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `secrets not set for environment "${environment}":\n${missing.join('\n')}`,
      { file: displayPath(secretsFile(environment)) },
    );
  }
  if (generated.length > 0 && opts.store) await writeVault(environment, store);
  const values: Record<string, string> = {};
  for (const name of names) values[name] = store[name] ?? '';
  return {
    values,
    temporary: opts.store ? [] : generated,
    ...(unreadable === undefined ? { unset } : { unset: [], unreadable }),
  };
}

/** A value as it may be stored: one line, long enough to be masked in output. */
export function checkValue(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new ConfigError(`secret name "${name}": use letters, digits and underscores`);
  // A trailing newline from `echo` or a file would silently become part of a password.
  const clean = value.replace(/\r?\n$/, '');
  if (clean === '' || /[\r\n]/.test(clean))
    throw new ConfigError(`secret ${name}: the value must be one non-empty line`);
  if (clean.length < MIN_SECRET_LENGTH)
    throw new ConfigError(
      `secret ${name}: at least ${MIN_SECRET_LENGTH} characters (a shorter value cannot be masked in output without masking ordinary words)`,
    );
  return clean;
}

/** Read-modify-write of an environment's secrets, one process at a time. */
export async function updateSecrets(
  environment: string,
  change: (values: Values) => Values | Promise<Values>,
): Promise<string> {
  const file = secretsFile(environment);
  await withStateLock(file, async () => {
    await writeVault(environment, await change(await readVault(environment)));
  });
  return file;
}

export async function setSecret(environment: string, name: string, value: string): Promise<string> {
  const clean = checkValue(name, value);
  return updateSecrets(environment, (values) => ({ ...values, [name]: clean }));
}

export async function getSecret(environment: string, name: string): Promise<string> {
  const value = (await readVault(environment))[name];
  if (value === undefined)
    throw new ConfigError(`no secret "${name}" is set for environment "${environment}"`, {
      file: displayPath(secretsFile(environment)),
    });
  return value;
}

export async function listSecrets(environment: string): Promise<string[]> {
  return Object.keys(await readVault(environment)).sort();
}
