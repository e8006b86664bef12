import type { Static, TObject } from 'typebox';
import type { HostView, Task } from './task.ts';

/** A task list entry; `false`, `null` and `undefined` are dropped so `cond && task(...)` reads naturally. */
export type TaskEntry = Task | false | null | undefined;

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
  readonly tasks: readonly TaskEntry[] | ((host: PlaybookHost<S, K>) => readonly TaskEntry[]);
  /** Run once at the end of the play, in this order, only if a task notified them (by name). */
  readonly handlers?: readonly Task[] | ((host: PlaybookHost<S, K>) => readonly Task[]);
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
    tasksFor(host) {
      const view = host as unknown as PlaybookHost<S, K>;
      const list = typeof tasks === 'function' ? tasks(view) : tasks;
      return list.filter((t): t is Task => t !== false && t !== null && t !== undefined);
    },
    handlersFor(host) {
      const view = host as unknown as PlaybookHost<S, K>;
      return handlers === undefined
        ? []
        : typeof handlers === 'function'
          ? handlers(view)
          : handlers;
    },
  };
}
