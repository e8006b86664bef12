import type { Static, TObject } from 'typebox';
import { ConfigError } from './errors.ts';
import { handlerName, isRoleUse, type RoleUse } from './role.ts';
import { adaptTask, isTask, type HostView, type Task, type WithFacts } from './task.ts';

/**
 * A task list entry. `false`, `null` and `undefined` are dropped so `cond && task(...)` reads
 * naturally, and lists nest (`[...mail(), users.map(ensureUser)]`): they are flattened in order.
 * A role (`mtaDma({...})`) stands for its dependencies' tasks, then its own.
 */
export type TaskEntry = Task | RoleUse | false | null | undefined | readonly TaskEntry[];

/** A play's tasks and handlers for one host, roles expanded. */
export interface PlayContents {
  readonly tasks: readonly Task[];
  readonly handlers: readonly Task[];
}

/**
 * Flatten a task list; anything that is not a task (a forgotten call, a string) is an error naming
 * where it is: `tasks[3][1]`. Without a host, roles are refused (a handler list cannot hold one).
 */
export function flattenTasks(entries: readonly TaskEntry[], where: string): Task[] {
  return [...expandEntries(entries, where, undefined).tasks];
}

/** One expansion of a play for one host: which roles already ran (by definition and vars). */
interface Expansion {
  readonly host: HostView | undefined;
  readonly done: Set<string>;
  readonly stack: string[];
  readonly definitions: Map<string, object>;
}

function expandEntries(
  entries: readonly TaskEntry[],
  where: string,
  host: HostView | undefined,
  exp: Expansion = { host, done: new Set(), stack: [], definitions: new Map() },
): PlayContents {
  const tasks: Task[] = [];
  const handlers: Task[] = [];
  const walk = (list: readonly unknown[], path: string): void => {
    list.forEach((e, i) => {
      const at = `${path}[${i}]`;
      if (e === false || e === null || e === undefined) return;
      if (Array.isArray(e)) walk(e, at);
      else if (isTask(e)) tasks.push(e);
      else if (isRoleUse(e) && exp.host !== undefined) {
        const c = expandRole(e, exp);
        tasks.push(...c.tasks);
        handlers.push(...c.handlers);
      } else
        throw new ConfigError(
          `${at}: expected a task (made by a task factory such as ensureDir({...}))${exp.host !== undefined ? ' or a role' : ''}, got ${describe(e)}`,
        );
    });
  };
  if (!Array.isArray(entries))
    throw new ConfigError(`${where}: expected a list of tasks, got ${describe(entries)}`);
  walk(entries, where);
  return { tasks, handlers };
}

/** A role's dependencies, then the role; a role already expanded with the same vars is skipped. */
function expandRole(use: RoleUse, exp: Expansion): PlayContents {
  if (exp.host === undefined) return { tasks: [], handlers: [] };
  const seen = exp.definitions.get(use.name);
  if (seen !== undefined && seen !== use.definition)
    throw new ConfigError(
      'two different roles have this name (from two packages, or two copies of one)',
      { role: use.name },
    );
  exp.definitions.set(use.name, use.definition);
  if (exp.stack.includes(use.name))
    throw new ConfigError(`dependsOn: a cycle: ${[...exp.stack, use.name].join(' -> ')}`, {
      role: use.name,
    });
  const key = `${use.name} ${stableJson(use.vars)}`;
  if (exp.done.has(key)) return { tasks: [], handlers: [] };
  exp.done.add(key);
  exp.stack.push(use.name);
  try {
    const deps = expandEntries(use.dependencies(), `role ${use.name}: dependsOn`, exp.host, exp);
    const own = use.expand(exp.host, (entries, where) =>
      expandEntries(entries, where, exp.host, exp),
    );
    const tags = use.options.tags ?? [];
    const tagged = (t: Task): Task =>
      tags.length === 0
        ? t
        : {
            ...t,
            options: { ...t.options, tags: [...new Set([...(t.options.tags ?? []), ...tags])] },
          };
    return {
      tasks: [...deps.tasks, ...own.tasks].map((t) => adaptTask(t, tagged)),
      handlers: [...deps.handlers, ...own.handlers],
    };
  } catch (err) {
    if (err instanceof ConfigError && err.source.role === undefined)
      throw new ConfigError(err.message, { ...err.source, role: use.name });
    throw err;
  } finally {
    exp.stack.pop();
  }
}

/** JSON with object keys sorted: the same vars given in another order are the same role use. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

function describe(v: unknown): string {
  if (isRoleUse(v)) return `the role ${v.name} (a role belongs in a task list, not here)`;
  if (typeof v === 'function')
    return `a function${v.name !== '' ? ` (${v.name})` : ''}: call it to make the task`;
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object' && v !== null) return 'an object that is not a task';
  return `${typeof v} ${String(v)}`;
}

/**
 * A secret the playbook needs. `generate`: made once per environment (cryptographically random)
 * and then kept; `operator`: must be set by a person (`fleetbook secret set ENV NAME`).
 */
export type SecretSpec =
  | { readonly generate: { readonly length: number } }
  | { readonly operator: { readonly description: string } };

export interface PlaybookDefinition<
  S extends TObject,
  K extends string = never,
  F extends boolean = false,
> {
  readonly name: string;
  /** Host names, group names or glob patterns ("web*"); "all" is every host. */
  readonly hosts: string | readonly string[];
  /** Schema of the vars this playbook reads; merged host vars are validated against it before any connection. */
  readonly varsSchema?: S;
  /** Defaults for vars; the inventory (all, then group, then host vars) overrides them. */
  readonly vars?: Partial<Static<S>>;
  /** Secrets by name; tasks read them as `host.secrets.NAME`. Kept outside the inventory, never printed. */
  readonly secrets?: Readonly<Record<K, SecretSpec>>;
  /**
   * Environment names this playbook knows besides the default ones (production, staging,
   * development, lab); an inventory naming any other environment is refused.
   */
  readonly environments?: readonly string[];
  /**
   * Read each host's system facts (OS, architecture, FQDN, CPUs, memory, addresses, init) once
   * per run, before its tasks are made: `host.facts` in tasks, conditions and templates. Costs
   * the host's first round trip; without it nothing is read before the tasks are known.
   */
  readonly facts?: F;
  readonly tasks: readonly TaskEntry[] | ((host: PlaybookHost<S, K, F>) => readonly TaskEntry[]);
  /** Run once at the end of the play, in this order, only if a task notified them (by name). */
  readonly handlers?:
    readonly TaskEntry[] | ((host: PlaybookHost<S, K, F>) => readonly TaskEntry[]);
}

/** What a playbook's task function sees: typed vars, typed secret names, and facts if it reads them. */
export type PlaybookHost<
  S extends TObject,
  K extends string,
  F extends boolean = false,
> = WithFacts<
  Omit<HostView<Static<S>>, 'secrets'> & { readonly secrets: Readonly<Record<K, string>> },
  F
>;

export interface Playbook {
  readonly kind: 'playbook';
  readonly name: string;
  readonly hosts: readonly string[];
  readonly varsSchema: TObject | undefined;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly secrets: Readonly<Record<string, SecretSpec>>;
  readonly environments: readonly string[];
  /** Whether host facts are read before the tasks are made (see PlaybookDefinition.facts). */
  readonly facts: boolean;
  /** The tasks and handlers for one host, roles expanded (their handlers join the play's). */
  contentsFor(host: HostView): PlayContents;
}

export function definePlaybook<
  S extends TObject = TObject,
  K extends string = never,
  F extends boolean = false,
>(def: PlaybookDefinition<S, K, F>): Playbook {
  const { tasks, handlers } = def;
  return {
    kind: 'playbook',
    name: def.name,
    hosts: typeof def.hosts === 'string' ? [def.hosts] : [...def.hosts],
    varsSchema: def.varsSchema,
    vars: def.vars ?? {},
    secrets: def.secrets ?? {},
    environments: def.environments ?? [],
    facts: def.facts === true,
    contentsFor(host) {
      if (def.facts === true && host.facts === undefined)
        throw new ConfigError('the playbook reads host facts, but none were read for this host');
      const view = host as unknown as PlaybookHost<S, K, F>;
      const play = expandEntries(typeof tasks === 'function' ? tasks(view) : tasks, 'tasks', host);
      const own =
        handlers === undefined
          ? []
          : flattenTasks(typeof handlers === 'function' ? handlers(view) : handlers, 'handlers');
      return { tasks: play.tasks, handlers: [...own, ...sameHandlersOnce(play.handlers)] };
    },
  };
}

/**
 * A role used twice with different vars brings its handlers twice: the same handler (same task,
 * same params) runs once, as in Ansible; two different ones under one name stay, and are refused
 * by name where the play is prepared.
 */
function sameHandlersOnce(handlers: readonly Task[]): Task[] {
  const byName = new Map<string, Task[]>();
  const out: Task[] = [];
  for (const h of handlers) {
    const name = handlerName(h);
    const same = byName.get(name) ?? [];
    if (same.some((o) => o.type === h.type && stableJson(o.params) === stableJson(h.params)))
      continue;
    byName.set(name, [...same, h]);
    out.push(h);
  }
  return out;
}
