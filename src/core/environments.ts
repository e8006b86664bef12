import { ConfigError } from './errors.ts';
import { closest } from './schema.ts';

/** The environments every inventory may name; an inventory or playbook may declare more. */
export const DEFAULT_ENVIRONMENTS = ['production', 'staging', 'development', 'lab'] as const;

/**
 * An environment must be one that is declared: playbooks branch on `host.environment ===
 * 'production'`, so a typo such as `prod` would silently skip every production step.
 */
export function checkEnvironment(name: string, declared: readonly string[], file: string): void {
  const known = [...new Set([...DEFAULT_ENVIRONMENTS, ...declared])];
  if (known.includes(name)) return;
  // `prod` for production, `dev` for development: a prefix is the usual slip, then a typo.
  const hint =
    known.find((k) => name.length >= 3 && k.startsWith(name.toLowerCase())) ?? closest(name, known);
  throw new ConfigError(
    `environment: "${name}" is not a known environment${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; ` +
      `known: ${known.join(', ')}. Declare others with \`environments: [...]\` in the inventory or the playbook`,
    { file, field: 'environment' },
  );
}
