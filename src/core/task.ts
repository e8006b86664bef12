import type { Static, TSchema } from 'typebox';
import type {
  FactQuery,
  FactsOf,
  FileFact,
  PackageState,
  ProbeSpec,
  ServiceFact,
  UserFact,
  GroupFact,
  PackageContentsFact,
} from './facts.ts';
import type { HostFacts } from './host-facts.ts';
import type { CustomFactEffect } from './custom-fact.ts';
import { validate } from './schema.ts';
import { ruleProblems, type ParamRule } from './param-rules.ts';
import { ConfigError } from './errors.ts';
import { projectRoot, templatesRoot } from './project.ts';
import type { Script } from './shell.ts';

/** What a plan, probe or prepare step may know about the host it is for. */
export interface HostView<V = Record<string, unknown>> {
  readonly name: string;
  readonly address: string;
  readonly environment: string;
  readonly groups: readonly string[];
  readonly vars: V;
  /** The playbook's declared secrets for this host's environment. Their values are masked in all output. */
  readonly secrets: Readonly<Record<string, string>>;
  /**
   * The host's system facts, read once per run when the playbook says `facts: true` (a playbook
   * or role that declares it sees them typed; see WithFacts).
   */
  readonly facts?: HostFacts | undefined;
}

/** A host as a playbook or role that declares `facts: true` sees it: its facts are there. */
export type WithFacts<H, F extends boolean> = F extends true
  ? Omit<H, 'facts'> & { readonly facts: HostFacts }
  : H;

/** Runs commands on the host during a verify action (after apply, never in check mode). */
export interface RemoteShell {
  /** Run a script (built with `sh`) on the host; it travels on stdin, never in the process list. */
  exec(
    script: Script,
    opts?: { stdin?: string | Buffer },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A step that changes the host. Steps are data so check mode can describe them and rollback can replay undo. */
export type Step =
  | {
      readonly op: 'run';
      /** Built with `sh` (every interpolated value quoted) or, for a user's own code, `raw`. */
      readonly script: Script;
      readonly describe: string;
      readonly stdin?: string;
      /**
       * Undo and afterUndo steps: a read-only check run just before; when it exits non-zero the
       * step is skipped, and what it printed says why (a directory that is no longer empty, a
       * user who still owns files, a unit that is gone). `undoGuards` has the common ones.
       */
      readonly onlyIf?: Script;
      /**
       * Undo steps: prints what the step takes away, one per line (paths; `user:NAME`,
       * `group:NAME`), so that `rollback --check` judges the later steps' `onlyIf` against the
       * host as the earlier steps would leave it.
       */
      readonly removes?: Script;
    }
  | {
      readonly op: 'write';
      readonly path: string;
      readonly content: Buffer;
      readonly mode: string;
      readonly owner: string;
      readonly group: string;
      /** Command run on the temp file before it replaces the live one; `%s` is the temp path. */
      readonly validate?: string;
    }
  | {
      /**
       * Take a file or a directory tree away without losing it: it is moved into the run's backups
       * on the host, where its undo finds it (bytes, mode, owner and mtime as they were). Nothing
       * to do if it is already absent. Allowed in `steps` and in `undo` (for what the change made
       * that cannot simply be deleted, such as a database it created).
       */
      readonly op: 'remove';
      readonly path: string;
    };

/** What a change does to the facts a later task may read; in check mode these form the simulated state. */
export type Effect =
  | { readonly kind: 'file'; readonly fact: FileFact }
  | { readonly kind: 'packages'; readonly packages: Readonly<Record<string, PackageState>> }
  | { readonly kind: 'user'; readonly fact: UserFact }
  | { readonly kind: 'group'; readonly fact: GroupFact }
  | { readonly kind: 'service'; readonly fact: Partial<ServiceFact> & { readonly name: string } }
  /**
   * Packages an install adds (fact.packageContents): later tasks see their directories and
   * conffiles, and a task that reads anything else they may create is `unknown` in check mode.
   */
  | { readonly kind: 'installs'; readonly contents: PackageContentsFact }
  /** A custom fact's value after the change (factEffect): check mode's later tasks read it. */
  | CustomFactEffect;

export type DiffPart =
  /** A unified diff of a file, its header naming host and path; values already masked if sensitive. */
  | { readonly kind: 'file'; readonly path: string; readonly unified: string }
  /** An attribute before/after: `/etc/x mode: 0644 -> 0640`. */
  | {
      readonly kind: 'attr';
      readonly subject: string;
      readonly field: string;
      readonly before: string;
      readonly after: string;
    }
  /** A line item: `+ package nginx`, `~ restart nginx`. */
  | { readonly kind: 'item'; readonly sign: '+' | '-' | '~'; readonly text: string };

export interface Change {
  /** One line for the terminal: "create directory /var/cache/app". */
  readonly summary: string;
  readonly diff: readonly DiffPart[];
  readonly steps: readonly Step[];
  /**
   * Steps that put the host back as the probe saw it, in the order they must run (userdel before
   * groupdel; chown before chmod, since chown clears setuid bits). Recorded before the steps run.
   * A `write` step needs none: the runner saves the old file on the host and restores it. On
   * rollback, changes are undone last first; within a change, the runner's file restores come
   * first (last write first), then these steps.
   */
  readonly undo: readonly Step[];
  readonly effects: readonly Effect[];
  /**
   * Steps to replay after this run's changes on the host are undone, e.g. a restart, which cannot
   * itself be undone but must happen again so the service runs with the restored files.
   */
  readonly afterUndo?: readonly Step[];
}

/**
 * A check that runs after apply (never in check mode); it throws TaskFailure to fail the task.
 * It changes nothing on the host, unless it declares `sideEffect`: what it does that cannot be
 * undone (sending a test message). The side effect is shown, and recorded in the run's journal.
 */
export interface VerifyAction {
  readonly describe: string;
  /** What running the check does to the world, e.g. "sends a test message to ops@example.org". */
  readonly sideEffect?: string;
  run(shell: RemoteShell): Promise<string | undefined>;
}

export type Plan =
  | { readonly status: 'ok'; readonly note?: string; readonly verify?: readonly VerifyAction[] }
  | {
      readonly status: 'change';
      readonly changes: readonly Change[];
      readonly verify?: readonly VerifyAction[];
    }
  /** Check mode cannot know (e.g. depends on a command's effect); the reason is shown. */
  | { readonly status: 'unknown'; readonly reason: string }
  | { readonly status: 'fail'; readonly message: string };

export interface PlanContext<V = Record<string, unknown>> {
  readonly host: HostView<V>;
  /** True when the task runs as a notified handler. */
  readonly notified: boolean;
}

/** Where a task's relative `src` paths are found while it is prepared. */
export interface PrepareContext {
  /** templateFile's `src`: the project's `templates/` (or `$FLEETBOOK_TEMPLATES`), or a role's. */
  readonly templates: string;
  /** copyFile's `src`: the project's directory, or a role's `files/`. */
  readonly files: string;
}

export interface TaskOptions {
  /** Shown in output; defaults to the task type and its main param. */
  readonly name?: string;
  readonly tags?: readonly string[];
  /** Handler names to run at the end of the play if this task changed something. */
  readonly notify?: readonly string[];
  /**
   * The task's time limit, probe, changes and checks together (default: the run's --task-timeout).
   * A task still running then fails, its command on the host is killed, and rollback follows.
   */
  readonly timeoutSeconds?: number;
}

/** What a task's `result` is computed from: the task's own facts after it, and what it printed. */
export interface ResultInput<F, R> {
  /**
   * The task's probe facts as they are after it: as read when it changed nothing, read again after
   * a real run changed the host; undefined in check mode after a would-change (nothing happened).
   */
  readonly facts: F | undefined;
  readonly prepared: R;
  /** `unchanged`: nothing to do; `applied`: a real run made the change; `predicted`: check mode, it would. */
  readonly state: 'unchanged' | 'applied' | 'predicted';
  /** What the change's run steps printed, in order (only when `applied`). */
  readonly output: readonly StepPrinted[];
}

export interface StepPrinted {
  readonly step: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every task's result has this; a task type may add its own fields (see TaskDefinition.result). */
export interface ChangedResult {
  /** The task changed the host (in check mode: would change it). */
  readonly changed: boolean;
}

export interface TaskDefinition<
  S extends TSchema,
  P extends ProbeSpec,
  R,
  Res extends object = object,
> {
  /** The task type, camelCase verb: "ensureDir". */
  readonly type: string;
  readonly params: S;
  /** Shown when no name is given, e.g. the path or the package list. */
  readonly describe?: (params: Static<S>) => string;
  /**
   * Rules across fields the schema cannot say ("exactly one of src or content"). Runs when the
   * task is built, after schema validation; throw ConfigError naming the field.
   */
  readonly check?: (params: Static<S>) => void;
  /**
   * Rules across fields, as data ("exactly one of src or content", "target only when state is
   * link"): checked when the task is built, after the schema and before `check`, each problem
   * naming its field; the task reference lists them.
   */
  readonly rules?: readonly ParamRule<Static<S>>[];
  /** Controller-side work before any host is touched (render a template, read a local file). May throw ConfigError. */
  readonly prepare?: (params: Static<S>, host: HostView, ctx: PrepareContext) => R | Promise<R>;
  /** The facts to read on the host (read-only). */
  readonly probe: (params: Static<S>, prepared: R) => P;
  /** Pure: desired (params) vs actual (facts) -> ok, or the changes with diff and undo. */
  readonly plan: (params: Static<S>, facts: FactsOf<P>, prepared: R, ctx: PlanContext) => Plan;
  /**
   * The task's typed result, for tasks after it on the same host (`withResult`). Return undefined
   * when it cannot be known, as in check mode before a change that has not happened: the tasks
   * that depend on it are then `unknown`, with the reason, never planned from a guess.
   */
  readonly result?: (params: Static<S>, got: ResultInput<FactsOf<P>, R>) => Res | undefined;
}

/**
 * A `withResult` entry: tasks made on the host, once the task it reads has run there. The runner
 * expands it in place (see src/runner/deferred.ts).
 */
export interface Deferred {
  /** `uid` of the task whose result it reads. */
  readonly source: number;
  readonly sourceTitle: string;
  readonly make: (result: unknown) => TaskList;
  /** What the play did to this entry (a role's title, notify names and files; tags), for each task it makes. */
  readonly adapt: (task: Task) => Task;
}

/** Tasks without roles, nested and with `false`/`null`/`undefined` dropped, as in a task list. */
export type TaskList = Task | false | null | undefined | readonly TaskList[];

/**
 * A validated task instance, ready for the runner. Generic parts are erased here on purpose, but
 * for `R`, the result a later task on the same host may read (see `withResult`).
 */
export interface Task<R = unknown> {
  readonly kind: 'task';
  /** This task's identity, kept by the copies roles and tags make of it: what `withResult` refers to. */
  readonly uid: number;
  readonly type: string;
  readonly title: string;
  readonly options: TaskOptions;
  readonly params: unknown;
  /** The role whose task list holds this task (its title then starts with the role's name). */
  readonly role?: string;
  /** On a role's handler it does not export: only that role's tasks may notify it. */
  readonly privateTo?: string;
  /** Controller-side preparation; `ctx` defaults to the project's directories. */
  prepare(host: HostView, ctx?: PrepareContext): Promise<unknown>;
  probe(prepared: unknown): ProbeSpec;
  plan(facts: Readonly<Record<string, unknown>>, prepared: unknown, ctx: PlanContext): Plan;
  /** The task's result from what it did; undefined when that cannot be known (see TaskDefinition.result). */
  result(got: ResultInput<Readonly<Record<string, unknown>>, unknown>): R | undefined;
  /** Set on a `withResult` entry. */
  readonly deferred?: Deferred;
}

export type TaskFactory<S extends TSchema, Res extends object = object> = (
  params: Static<S>,
  options?: TaskOptions,
) => Task<Res & ChangedResult>;

/** The result a task gives to `withResult`: `ResultOf<typeof command>` or `ResultOf<typeof myTask>`. */
export type ResultOf<T> = T extends (...args: never[]) => Task<infer R>
  ? R
  : T extends Task<infer R>
    ? R
    : never;

let lastUid = 0;

/** A new task identity. */
export function newTaskUid(): number {
  return ++lastUid;
}

/**
 * A copy of a task made by `f` (a role's title, a tag); on a `withResult` entry, each task it makes
 * on the host later gets `f` too, after what was done to it before.
 */
export function adaptTask(task: Task, f: (t: Task) => Task): Task {
  const out = f(task);
  const d = task.deferred;
  return d === undefined ? out : { ...out, deferred: { ...d, adapt: (t) => f(d.adapt(t)) } };
}

/** Whether a value is a task made by a task factory. */
export function isTask(value: unknown): value is Task {
  return (
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'task'
  );
}

/**
 * Define a task type. The returned factory validates params when called (so a playbook with a bad
 * param fails before any connection) and returns a Task; it runs nothing.
 */
export function defineTask<
  S extends TSchema,
  P extends ProbeSpec,
  R = undefined,
  Res extends object = object,
>(
  def: TaskDefinition<S, P, R, Res>,
): TaskFactory<S, Res> & {
  readonly type: string;
  readonly schema: S;
  readonly rules: readonly ParamRule<Static<S>>[];
} {
  const factory = (params: Static<S>, options: TaskOptions = {}): Task<Res & ChangedResult> => {
    const label = options.name !== undefined ? `${def.type} "${options.name}"` : def.type;
    if (
      options.timeoutSeconds !== undefined &&
      !(Number.isFinite(options.timeoutSeconds) && options.timeoutSeconds > 0)
    )
      throw new ConfigError(
        `timeoutSeconds: expected a number of seconds above 0, got ${String(options.timeoutSeconds)}`,
        {
          task: label,
          field: 'timeoutSeconds',
        },
      );
    const checked = validate(def.params, params, { task: label });
    const broken = ruleProblems(def.rules ?? [], checked, defaultsOf(def.params))[0];
    if (broken !== undefined)
      throw new ConfigError(`${broken.field}: ${broken.message}`, {
        task:
          options.name === undefined && def.describe !== undefined
            ? `${def.type} "${def.describe(checked)}"`
            : label,
        field: broken.field,
      });
    def.check?.(checked);
    const title = options.name ?? `${def.type} ${def.describe?.(checked) ?? ''}`.trim();
    return {
      kind: 'task',
      uid: newTaskUid(),
      type: def.type,
      title,
      options,
      params: checked,
      async prepare(host, ctx = projectContext()) {
        if (def.prepare === undefined) return undefined;
        try {
          return await def.prepare(checked, host, ctx);
        } catch (err) {
          if (err instanceof ConfigError && err.source.task === undefined) {
            throw new ConfigError(err.message, { ...err.source, task: `"${title}"` });
          }
          throw err;
        }
      },
      probe: (prepared) => def.probe(checked, prepared as R),
      plan: (facts, prepared, ctx) => def.plan(checked, facts as FactsOf<P>, prepared as R, ctx),
      result(got) {
        // A task type without a result of its own still tells whether it changed the host.
        const own: Res | undefined =
          def.result === undefined
            ? ({} as Res)
            : def.result(checked, {
                ...got,
                facts: got.facts as FactsOf<P> | undefined,
                prepared: got.prepared as R,
              });
        return own === undefined ? undefined : { ...own, changed: got.state !== 'unchanged' };
      },
    };
  };
  return Object.assign(factory, { type: def.type, schema: def.params, rules: def.rules ?? [] });
}

/** The defaults a task's schema declares for its top-level fields. */
function defaultsOf(schema: TSchema): Record<string, unknown> {
  const props = (schema as { properties?: Record<string, { default?: unknown }> }).properties;
  return Object.fromEntries(
    Object.entries(props ?? {})
      .filter(([, s]) => s.default !== undefined)
      .map(([k, s]) => [k, s.default]),
  );
}

/** The project's directories, read when a task is prepared (the playbook's project is known then). */
function projectContext(): PrepareContext {
  return { templates: templatesRoot(), files: projectRoot() };
}

export type { FactQuery };
