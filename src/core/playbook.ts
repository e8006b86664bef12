import type { Static, TObject } from 'typebox';
import { ConfigError } from './errors.ts';
import { isTask, type HostView, type Task } from './task.ts';

/**
 * A task list entry. `false`, `null` and `undefined` are dropped so `cond && task(...)` reads
 * naturally, and lists nest (`[...mail(), users.map(ensureUser)]`): they are flattened in order.
 */
export type TaskEntry = Task | false | null | undefined | readonly TaskEntry[];

/**
 * Flatten a task list; anything that is not a task (a forgotten call, a string) is an error naming
 * where it is: `tasks[3][1]`.
 */
export function flattenTasks(entries: readonly TaskEntry[], where: string): Task[] {
  const out: Task[] = [];
  const walk = (list: readonly unknown[], path: string): void => {
    list.forEach((e, i) => {
      const at = `${path}[${i}]`;
      if (e === false || e === null || e === undefined) return;
      if (Array.isArray(e)) walk(e, at);
      else if (isTask(e)) out.push(e);
      else
        throw new ConfigError(
          `${at}: expected a task (made by a task factory such as ensureDir({...})), got ${describe(e)}`,
        );
    });
  };
  if (!Array.isArray(entries))
    throw new ConfigError(`${where}: expected a list of tasks, got ${describe(entries)}`);
  walk(entries, where);
  return out;
}

function describe(v: unknown): string {
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

export interface PlaybookDefinition<S extends TObject, K extends string = never> {
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
  readonly tasks: readonly TaskEntry[] | ((host: PlaybookHost<S, K>) => readonly TaskEntry[]);
  /** Run once at the end of the play, in this order, only if a task notified them (by name). */
  readonly handlers?: readonly TaskEntry[] | ((host: PlaybookHost<S, K>) => readonly TaskEntry[]);
}

/** What a playbook's task function sees: typed vars and typed secret names. */
export type PlaybookHost<S extends TObject, K extends string> = Omit<
  HostView<Static<S>>,
  'secrets'
> & {
  readonly secrets: Readonly<Record<K, string>>;
};

export interface Playbook {
  readonly kind: 'playbook';
  readonly name: string;
  readonly hosts: readonly string[];
  readonly varsSchema: TObject | undefined;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly secrets: Readonly<Record<string, SecretSpec>>;
  readonly environments: readonly string[];
  tasksFor(host: HostView): readonly Task[];
  handlersFor(host: HostView): readonly Task[];
}

export function definePlaybook<S extends TObject = TObject, K extends string = never>(
  def: PlaybookDefinition<S, K>,
): Playbook {
  const { tasks, handlers } = def;
  return {
    kind: 'playbook',
    name: def.name,
    hosts: typeof def.hosts === 'string' ? [def.hosts] : [...def.hosts],
    varsSchema: def.varsSchema,
    vars: def.vars ?? {},
    secrets: def.secrets ?? {},
    environments: def.environments ?? [],
    tasksFor(host) {
      const view = host as unknown as PlaybookHost<S, K>;
      return flattenTasks(typeof tasks === 'function' ? tasks(view) : tasks, 'tasks');
    },
    handlersFor(host) {
      const view = host as unknown as PlaybookHost<S, K>;
      if (handlers === undefined) return [];
      return flattenTasks(typeof handlers === 'function' ? handlers(view) : handlers, 'handlers');
    },
  };
}
