/**
 * New kinds of fact (a sysctl value, a git revision, a package's candidate version), defined the
 * way the built-in ones are: a read-only script for every query of the kind in a probe (so they
 * are batched into the task's one round trip), a parser, and, for check mode, how a change says
 * what it leaves: an effect (`factEffect`) that later tasks read instead of the live host.
 * Unlike `fact.command`, whose answer check mode can only report as stale after a change.
 */
import type { Script } from './shell.ts';

// Methods, not function-valued fields: a query of any kind then fits where a fact query is asked.
export interface FactDefinition<A, F> {
  /** The kind's name, unique among facts: `sysctl`. */
  readonly kind: string;
  /** One read-only script for every query of this kind in a probe; `args` have distinct keys. */
  script(args: readonly A[]): Script;
  /** The facts from what the script printed, one per arg, in the order of `args`. */
  parse(stdout: string, args: readonly A[]): F[];
  /** Tells queries apart (and is their cache key). Default: the arg as JSON. */
  key?(arg: A): string;
  /**
   * What a package an earlier task would install may change of this fact, in check mode. `any`
   * (the default): anything, so after a would-be install the live value is doubted, as a shell
   * check's is. `accounts`: only a package whose scripts create accounts may (a fact about one
   * account, such as its password's lock), so it is doubted exactly when user and group facts are.
   */
  readonly changedByInstalls?: 'any' | 'accounts';
}

export interface CustomQuery<A = unknown, F = unknown> {
  readonly kind: 'custom';
  readonly def: FactDefinition<A, F>;
  readonly arg: A;
  /** `KIND:KEY`: one cache entry, one simulated value, per kind and arg. */
  readonly key: string;
}

/** A query constructor for the new kind: `const sysctl = defineFact({...}); probe: { v: sysctl('vm.swappiness') }`. */
export type CustomFactFactory<A, F> = ((arg: A) => CustomQuery<A, F>) & {
  readonly kind: string;
};

export function defineFact<A, F>(def: FactDefinition<A, F>): CustomFactFactory<A, F> {
  if (!/^[a-z][A-Za-z0-9-]*$/.test(def.kind))
    throw new Error(`defineFact: kind "${def.kind}" must be a name such as "sysctl"`);
  const keyOf = (a: A): string => (def.key === undefined ? JSON.stringify(a) : def.key(a));
  const make = (arg: A): CustomQuery<A, F> => ({
    kind: 'custom',
    def,
    arg,
    key: `${def.kind}:${keyOf(arg)}`,
  });
  return Object.assign(make, { kind: def.kind });
}

/** A change's effect on a custom fact: in check mode, later tasks read `value` for `query`. */
export interface CustomFactEffect {
  readonly kind: 'fact';
  readonly key: string;
  readonly value: unknown;
}

export function factEffect<A, F>(query: CustomQuery<A, F>, value: F): CustomFactEffect {
  return { kind: 'fact', key: query.key, value };
}
