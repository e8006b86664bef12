/**
 * Rules across a task's params that a schema of each field cannot say, declared as data on the
 * task (`rules` in defineTask) instead of coded again in each task: "exactly one of src or
 * content", "target only when state is link". Checked when the task is built, after the schema;
 * each problem names its field. The task reference lists them (scripts/task-reference.ts).
 */

type Key<P> = keyof P & string;

export type ParamRule<P> =
  /** Exactly one of these fields is given. */
  | { readonly exactlyOne: readonly Key<P>[] }
  /** At most one of these fields is given. */
  | { readonly atMostOne: readonly Key<P>[] }
  /**
   * When the field has one of these values (its default counts when it is left out) or, when
   * `is` is left out, is given at all: the `require` fields must be given, at least one of
   * `requireOne`, and none of `forbid`.
   */
  | {
      readonly when: Key<P>;
      readonly is?: readonly unknown[];
      readonly require?: readonly Key<P>[];
      readonly requireOne?: readonly Key<P>[];
      readonly forbid?: readonly Key<P>[];
    };

export interface RuleProblem {
  readonly field: string;
  readonly message: string;
}

function given(params: object, key: string): boolean {
  return (params as Record<string, unknown>)[key] !== undefined;
}

function orList(keys: readonly string[]): string {
  return keys.length <= 2
    ? keys.join(' or ')
    : `${keys.slice(0, -1).join(', ')} or ${keys.at(-1) ?? ''}`;
}

/** The condition of a `when` rule, as a message says it: `state is "link"`, `src is given`. */
function condition(rule: { when: string; is?: readonly unknown[] }): string {
  if (rule.is === undefined) return `${rule.when} is given`;
  const values = rule.is.map((v) => JSON.stringify(v));
  return `${rule.when} is ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}`;
}

/**
 * What breaks the rules, in the order they are declared; empty when the params keep them.
 * `defaults`: the fields' defaults, which a `when ... is` rule reads for a field left out.
 */
export function ruleProblems<P extends object>(
  rules: readonly ParamRule<P>[],
  params: P,
  defaults: Readonly<Record<string, unknown>> = {},
): RuleProblem[] {
  const out: RuleProblem[] = [];
  for (const rule of rules) {
    if ('exactlyOne' in rule || 'atMostOne' in rule) {
      const keys = 'exactlyOne' in rule ? rule.exactlyOne : rule.atMostOne;
      const present = keys.filter((k) => given(params, k));
      if (present.length > 1)
        out.push({
          field: present[1] ?? '',
          message: `give only one of ${orList(keys)}, not ${present.join(' and ')}`,
        });
      else if (present.length === 0 && 'exactlyOne' in rule)
        out.push({ field: keys[0] ?? '', message: `give ${orList(keys)}; none was given` });
      continue;
    }
    const value = (params as Record<string, unknown>)[rule.when];
    const applies =
      rule.is === undefined ? value !== undefined : rule.is.includes(value ?? defaults[rule.when]);
    if (!applies) continue;
    for (const k of rule.require ?? [])
      if (!given(params, k)) out.push({ field: k, message: `required when ${condition(rule)}` });
    const one = rule.requireOne ?? [];
    if (one.length > 0 && !one.some((k) => given(params, k)))
      out.push({ field: one[0] ?? '', message: `give ${orList(one)} when ${condition(rule)}` });
    for (const k of rule.forbid ?? [])
      if (given(params, k)) out.push({ field: k, message: `not allowed when ${condition(rule)}` });
  }
  return out;
}

/** The rules as the task reference lists them. */
export function describeRules<P>(rules: readonly ParamRule<P>[]): string[] {
  return rules.map((rule) => {
    if ('exactlyOne' in rule) return `exactly one of ${rule.exactlyOne.join(', ')}`;
    if ('atMostOne' in rule) return `at most one of ${rule.atMostOne.join(', ')}`;
    const parts = [
      ...(rule.require !== undefined ? [`requires ${rule.require.join(', ')}`] : []),
      ...(rule.requireOne !== undefined ? [`requires ${orList(rule.requireOne)}`] : []),
      ...(rule.forbid !== undefined ? [`forbids ${rule.forbid.join(', ')}`] : []),
    ];
    return `when ${condition(rule)}: ${parts.join('; ')}`;
  });
}
