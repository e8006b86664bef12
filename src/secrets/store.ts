import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { MIN_SECRET_LENGTH } from '../core/secret-mask.ts';
import { withStateLock } from '../state/lock.ts';
import { displayPath } from '../core/paths.ts';
import { projectRoot } from '../core/project.ts';
import type { SecretSpec } from '../core/playbook.ts';

/**
 * Secrets live per environment in one JSON file, mode 0600 in a 0700 directory, outside version
 * control (`.fleetbook/` is git-ignored): never in an inventory, never on a command line.
 */
export function secretsDir(): string {
  return resolve(process.env.FLEETBOOK_SECRETS_DIR ?? join(projectRoot(), '.fleetbook', 'secrets'));
}

export function secretsFile(environment: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(environment))
    throw new ConfigError(`environment name "${environment}" cannot name a secrets file`);
  return join(secretsDir(), `${environment}.json`);
}

// URL-safe alphabet: the value can be pasted into Python, shell or INI without quoting trouble.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function generateSecret(length: number): string {
  // 64 symbols and a byte mask of 63: every symbol is equally likely (no modulo bias).
  return [...randomBytes(length)].map((b) => ALPHABET[b & 63] ?? 'A').join('');
}

async function readStore(file: string): Promise<Record<string, string>> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `secrets file is readable by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${displayPath(file)}`,
      { file: displayPath(file) },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `secrets file is not valid JSON: ${err instanceof Error ? err.message.replace(/: .*$/, '') : ''}`,
      { file: displayPath(file) },
    );
  }
  if (
    data === null ||
    typeof data !== 'object' ||
    Object.values(data).some((v) => typeof v !== 'string')
  ) {
    throw new ConfigError('secrets file must be a JSON object of strings', {
      file: displayPath(file),
    });
  }
  return data as Record<string, string>;
}

async function writeStore(file: string, values: Record<string, string>): Promise<void> {
  const dir = secretsDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

export interface LoadedSecrets {
  readonly values: Record<string, string>;
  /** Generated for this run only, not stored (a --check run changes nothing anywhere). */
  readonly temporary: readonly string[];
  /** Operator secrets not set, given a placeholder (only when asked for: nothing connects). */
  readonly unset: readonly string[];
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
    ? withStateLock(file, () => load(file, environment, names, specs, opts))
    : load(file, environment, names, specs, opts);
}

async function load(
  file: string,
  environment: string,
  names: readonly string[],
  specs: Readonly<Record<string, SecretSpec>>,
  opts: LoadOptions,
): Promise<LoadedSecrets> {
  const store = await readStore(file);
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
      { file: displayPath(file) },
    );
  }
  if (generated.length > 0 && opts.store) await writeStore(file, store);
  const values: Record<string, string> = {};
  for (const name of names) values[name] = store[name] ?? '';
  return { values, temporary: opts.store ? [] : generated, unset };
}

export async function setSecret(environment: string, name: string, value: string): Promise<string> {
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
  const file = secretsFile(environment);
  await withStateLock(file, async () => {
    const store = await readStore(file);
    store[name] = clean;
    await writeStore(file, store);
  });
  return file;
}

export async function listSecrets(environment: string): Promise<string[]> {
  return Object.keys(await readStore(secretsFile(environment))).sort();
}
