import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Static, TObject } from 'typebox';
import { ConfigError } from './errors.ts';
import { validate } from './schema.ts';
import {
  adaptTask,
  type HostView,
  type PrepareContext,
  type Task,
  type WithFacts,
} from './task.ts';
import type { TaskEntry } from './playbook.ts';

/**
 * Vars a role's user passes: the fields the role gives a default for may be left out (or be
 * undefined, which keeps the default).
 */
export type RoleVars<S extends TObject, D> = Omit<Static<S>, keyof D> & {
  readonly [K in Extract<keyof D, keyof Static<S>>]?: Static<S>[K] | undefined;
};

export interface RoleOptions {
  /** Added to every task the role brings (its own, its dependencies'), as Ansible's role tags are. */
  readonly tags?: readonly string[];
}

export interface RoleDefinition<
  S extends TObject,
  D extends Partial<Static<S>>,
  F extends boolean = false,
> {
  /** Shown before each of its tasks ("mta-dma: templateFile /etc/dma/dma.conf") and its handlers. */
  readonly name: string;
  /** The vars the role reads, checked where a playbook (or another role) uses the role. */
  readonly varsSchema?: S;
  /** Defaults; a field given one may be left out by the role's user. */
  readonly defaults?: D;
  /**
   * The role's own directory: its `templates/` (templateFile `src`) and `files/` (copyFile
   * `src`) are found there, wherever the role is installed. Pass `import.meta.url` of the role's
   * module (or a directory path). Without it they are the project's, as for a playbook's tasks.
   */
  readonly dir?: string;
  /** Roles that run first. A role used twice with the same vars runs once. */
  readonly dependsOn?: (vars: Static<S>) => readonly RoleUse[];
  /**
   * The role reads host facts (`host.facts`, typed): a playbook using it must say `facts: true`,
   * or it is refused before any connection.
   */
  readonly facts?: F;
  readonly tasks: (host: WithFacts<HostView, F>, vars: Static<S>) => readonly TaskEntry[];
  /**
   * Run at the end of the play if notified. Named within the role: its tasks notify "restart dma",
   * the play shows "mta-dma: restart dma".
   */
  readonly handlers?: (host: WithFacts<HostView, F>, vars: Static<S>) => readonly TaskEntry[];
  /** Handlers tasks outside the role may notify, as "ROLE: HANDLER"; the others are private. */
  readonly exports?: readonly string[];
}

/** A role with its vars, in a task list: expanded per host into its tasks and handlers. */
export interface RoleUse {
  readonly kind: 'role';
  readonly name: string;
  /** The vars after defaults, validated. */
  readonly vars: Readonly<Record<string, unknown>>;
  readonly options: RoleOptions;
  /** The role reads host facts (see RoleDefinition.facts). */
  readonly facts: boolean;
  /** Identity of the role's definition: two roles of the same name from two packages differ. */
  readonly definition: object;
  /** The roles that run before this one, with their vars. */
  dependencies(): readonly RoleUse[];
  expand(host: HostView, flatten: FlattenRole): RoleContents;
}

/** How a role's task list is flattened: the playbook's walker, which also expands nested roles. */
export type FlattenRole = (entries: readonly TaskEntry[], where: string) => RoleContents;

export interface RoleContents {
  readonly tasks: readonly Task[];
  readonly handlers: readonly Task[];
}

type RoleArgs<S extends TObject, D> =
  Record<string, never> extends RoleVars<S, D>
    ? [vars?: RoleVars<S, D>, options?: RoleOptions]
    : [vars: RoleVars<S, D>, options?: RoleOptions];

export type RoleFactory<S extends TObject, D> = ((...args: RoleArgs<S, D>) => RoleUse) & {
  readonly roleName: string;
  readonly schema: S | undefined;
};

export function isRoleUse(value: unknown): value is RoleUse {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'role'
  );
}

const ROLE_NAME = /^[a-z][a-z0-9._-]*$/;

/** The directory `dir` names: a module's file: URL or path means the directory it is in. */
export function roleDir(dir: string, role: string): string {
  const p = dir.startsWith('file:') ? fileURLToPath(dir) : path.resolve(dir);
  try {
    return statSync(p).isDirectory() ? p : path.dirname(p);
  } catch {
    throw new ConfigError(`dir: ${p} does not exist`, { role, field: 'dir' });
  }
}

/**
 * Define a role: a reusable unit of tasks, handlers, templates and files with typed vars. The
 * returned factory validates its vars when called (before any host is touched) and returns an
 * entry for a task list.
 */
export function defineRole<
  S extends TObject = TObject,
  const D extends Partial<Static<S>> = object,
  F extends boolean = false,
>(def: RoleDefinition<S, D, F>): RoleFactory<S, D> {
  const { name } = def;
  if (!ROLE_NAME.test(name))
    throw new ConfigError(
      `name: expected lower case letters, digits, ".", "_" or "-", starting with a letter, got ${JSON.stringify(name)}`,
      { role: name, field: 'name' },
    );
  const dir = def.dir !== undefined ? roleDir(def.dir, name) : undefined;
  const context: PrepareContext | undefined =
    dir !== undefined
      ? { templates: path.join(dir, 'templates'), files: path.join(dir, 'files') }
      : undefined;
  const exported = new Set(def.exports ?? []);

  const factory = (...args: RoleArgs<S, D>): RoleUse => {
    const [given, options = {}] = args;
    // a field given as undefined is not given: its default stays
    const merged: Record<string, unknown> = {
      ...def.defaults,
      ...Object.fromEntries(Object.entries(given ?? {}).filter(([, x]) => x !== undefined)),
    };
    const vars =
      def.varsSchema !== undefined
        ? validate(def.varsSchema, merged, { role: name })
        : (merged as Static<S>);
    return {
      kind: 'role',
      name,
      vars,
      options,
      facts: def.facts === true,
      definition: def,
      dependencies: () => def.dependsOn?.(vars) ?? [],
      expand(view, flatten) {
        if (def.facts === true && view.facts === undefined)
          throw new ConfigError(
            'the role reads host facts: the playbook that uses it must say `facts: true`',
            { role: name, field: 'facts' },
          );
        const host = view as WithFacts<HostView, F>;
        const handlers = flatten(def.handlers?.(host, vars) ?? [], `role ${name}: handlers`);
        if (handlers.handlers.length > 0 || handlers.tasks.some((t) => t.role !== undefined))
          throw new ConfigError('handlers: a role cannot be used as a handler', { role: name });
        const own = new Set(handlers.tasks.map(handlerName));
        for (const e of exported)
          if (!own.has(e))
            throw new ConfigError(
              `exports: no handler named "${e}"${own.size > 0 ? ` (handlers: ${[...own].map((h) => `"${h}"`).join(', ')})` : ''}`,
              { role: name, field: 'exports' },
            );
        const body = flatten(def.tasks(host, vars), `role ${name}: tasks`);
        return {
          tasks: body.tasks.map((t) =>
            t.role !== undefined ? t : adaptTask(t, (x) => ownTask(x, name, own, context)),
          ),
          handlers: [
            ...body.handlers,
            ...handlers.tasks.map((h) =>
              ownHandler(h, name, exported.has(handlerName(h)), context),
            ),
          ],
        };
      },
    };
  };
  return Object.assign(factory as RoleFactory<S, D>, {
    roleName: name,
    schema: def.varsSchema,
  });
}

export function handlerName(task: Task): string {
  return task.options.name ?? task.title;
}

function withContext(task: Task, context: PrepareContext | undefined): Task['prepare'] {
  return (host, ctx) => task.prepare(host, context ?? ctx);
}

/** A role's own task: titled with the role, its notify names resolved to the role's handlers. */
function ownTask(
  task: Task,
  role: string,
  handlers: ReadonlySet<string>,
  context: PrepareContext | undefined,
): Task {
  const notify = task.options.notify?.map((n) => (handlers.has(n) ? `${role}: ${n}` : n));
  return {
    ...task,
    title: `${role}: ${task.title}`,
    role,
    options: { ...task.options, ...(notify !== undefined ? { notify } : {}) },
    prepare: withContext(task, context),
  };
}

function ownHandler(
  task: Task,
  role: string,
  exported: boolean,
  context: PrepareContext | undefined,
): Task {
  const name = `${role}: ${handlerName(task)}`;
  return {
    ...task,
    title: name,
    role,
    ...(exported ? {} : { privateTo: role }),
    options: { ...task.options, name },
    prepare: withContext(task, context),
  };
}
