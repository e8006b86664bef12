import type { Static, TObject } from 'typebox';
import type { HostView, Task } from './task.ts';

/** A task list entry; `false`, `null` and `undefined` are dropped so `cond && task(...)` reads naturally. */
export type TaskEntry = Task | false | null | undefined;

export interface PlaybookDefinition<S extends TObject> {
  readonly name: string;
  /** Host names, group names or glob patterns ("web*"); "all" is every host. */
  readonly hosts: string | readonly string[];
  /** Schema of the vars this playbook reads; merged host vars are validated against it before any connection. */
  readonly varsSchema?: S;
  /** Defaults for vars; the inventory (all, then group, then host vars) overrides them. */
  readonly vars?: Partial<Static<S>>;
  readonly tasks: readonly TaskEntry[] | ((host: HostView<Static<S>>) => readonly TaskEntry[]);
  /** Run once at the end of the play, in this order, only if a task notified them (by name). */
  readonly handlers?: readonly Task[] | ((host: HostView<Static<S>>) => readonly Task[]);
}

export interface Playbook {
  readonly kind: 'playbook';
  readonly name: string;
  readonly hosts: readonly string[];
  readonly varsSchema: TObject | undefined;
  readonly vars: Readonly<Record<string, unknown>>;
  tasksFor(host: HostView): readonly Task[];
  handlersFor(host: HostView): readonly Task[];
}

export function definePlaybook<S extends TObject = TObject>(def: PlaybookDefinition<S>): Playbook {
  const { tasks, handlers } = def;
  return {
    kind: 'playbook',
    name: def.name,
    hosts: typeof def.hosts === 'string' ? [def.hosts] : [...def.hosts],
    varsSchema: def.varsSchema,
    vars: def.vars ?? {},
    tasksFor(host) {
      const view = host as HostView<Static<S>>;
      const list = typeof tasks === 'function' ? tasks(view) : tasks;
      return list.filter((t): t is Task => t !== false && t !== null && t !== undefined);
    },
    handlersFor(host) {
      const view = host as HostView<Static<S>>;
      return handlers === undefined ? [] : typeof handlers === 'function' ? handlers(view) : handlers;
    },
  };
}
