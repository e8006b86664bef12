import { ConfigError } from '../core/errors.ts';
import type { Playbook } from '../core/playbook.ts';
import { validate } from '../core/schema.ts';
import { handlerName } from '../core/role.ts';
import type { HostView, Task } from '../core/task.ts';
import type { Inventory, ResolvedHost } from '../inventory/load.ts';
import type { PreparedHost, PreparedTask } from './host-run.ts';
import { extraVarsError, NO_EXTRA_VARS, type ExtraVars } from './extra-vars.ts';

export interface Filters {
  readonly tags?: readonly string[] | undefined;
  readonly skipTags?: readonly string[] | undefined;
}

function selected(task: Task, f: Filters): boolean {
  const tags = task.options.tags ?? [];
  if (f.skipTags !== undefined && tags.some((t) => f.skipTags?.includes(t))) return false;
  if (f.tags === undefined || tags.includes('always')) return true;
  return tags.some((t) => f.tags?.includes(t));
}

/** Whether a host's commands run as root: logged in as root, through sudo, or locally as root. */
export function runsAsRoot(h: ResolvedHost): boolean {
  if (h.connection === 'local') return h.become || process.getuid?.() === 0;
  return h.become || h.user === 'root';
}

/** A role's private handlers are reachable by that role's own tasks only. */
function reachable(handler: Task, notifier: Task): boolean {
  return handler.privateTo === undefined || handler.privateTo === notifier.role;
}

/** How a host's session runs: through `sudo -n` (not needed when logged in as root), and as whom. */
export function sessionAs(h: ResolvedHost): { readonly become: boolean; readonly asRoot: boolean } {
  return { become: h.become && h.user !== 'root', asRoot: runsAsRoot(h) };
}

/**
 * The host as its tasks see it, vars merged (playbook, inventory, extra vars) and checked
 * against the playbook's schema. Throws ConfigError naming the inventory and host.
 */
export function hostView(
  pb: Playbook,
  inv: Inventory,
  h: ResolvedHost,
  secrets: Readonly<Record<string, string>>,
  extra: ExtraVars = NO_EXTRA_VARS,
): HostView {
  const vars = { ...pb.vars, ...h.vars, ...extra.vars };
  if (pb.varsSchema !== undefined) {
    try {
      validate(pb.varsSchema, vars, { file: inv.file, host: h.name });
    } catch (err) {
      throw (err instanceof ConfigError ? extraVarsError(err, extra) : undefined) ?? err;
    }
  }
  return {
    name: h.name,
    address: h.address,
    environment: inv.environment,
    groups: h.groups,
    vars,
    secrets,
  };
}

/**
 * Everything that can be checked without a host, for one host: merged vars against the playbook's
 * schema, the task list (each factory validates its params), handler names, and each task's
 * controller-side preparation (template rendering). Throws ConfigError before any connection.
 */
export async function prepareHost(
  pb: Playbook,
  pbFile: string,
  inv: Inventory,
  h: ResolvedHost,
  filters: Filters,
  secrets: Readonly<Record<string, string>>,
  extra: ExtraVars = NO_EXTRA_VARS,
): Promise<PreparedHost> {
  return prepareTasks(pb, pbFile, hostView(pb, inv, h, secrets, extra), h, filters);
}

/**
 * A host's tasks and handlers made from its view (facts included when the playbook reads them),
 * validated and prepared on the controller. Throws ConfigError naming the playbook and host.
 */
export async function prepareTasks(
  pb: Playbook,
  pbFile: string,
  view: HostView,
  h: ResolvedHost,
  filters: Filters,
): Promise<PreparedHost> {
  const tag = (err: unknown): never => {
    if (err instanceof ConfigError)
      throw new ConfigError(err.message, {
        ...err.source,
        file: err.source.file ?? pbFile,
        host: h.name,
      });
    throw new ConfigError(err instanceof Error ? err.message : String(err), {
      file: pbFile,
      host: h.name,
    });
  };
  let tasks: readonly Task[];
  let handlers: readonly Task[];
  try {
    ({ tasks, handlers } = pb.contentsFor(view));
  } catch (err) {
    return tag(err);
  }
  const handlerMap = new Map<string, PreparedTask>();
  const prep = async (task: Task): Promise<PreparedTask> => {
    try {
      return { task, prepared: await task.prepare(view) };
    } catch (err) {
      return tag(err);
    }
  };
  for (const t of handlers) {
    const hname = handlerName(t);
    if (t.deferred !== undefined)
      throw new ConfigError('handlers: a withResult entry cannot be a handler', {
        file: pbFile,
        host: h.name,
        task: `"${t.title}"`,
      });
    if (handlerMap.has(hname))
      throw new ConfigError(`two handlers are named "${hname}"`, { file: pbFile });
    handlerMap.set(hname, await prep(t));
  }
  const chosen = tasks.filter((t) => selected(t, filters));
  readsRunBefore(chosen, pbFile, h.name);
  for (const t of chosen) {
    for (const n of t.options.notify ?? []) {
      const h = handlerMap.get(n)?.task;
      if (h === undefined || !reachable(h, t)) {
        const known = [...handlerMap].filter(([, p]) => reachable(p.task, t)).map(([k]) => k);
        const why =
          h?.privateTo !== undefined
            ? `the handler "${n}" is private to the role ${h.privateTo} (it is not in the role's exports)`
            : `no handler named "${n}"`;
        throw new ConfigError(
          `notify: ${why}${known.length > 0 ? ` (handlers: ${known.map((k) => `"${k}"`).join(', ')})` : ' (the playbook has no handlers)'}`,
          { file: pbFile, task: `"${t.title}"` },
        );
      }
    }
  }
  return {
    view,
    ...sessionAs(h),
    tasks: await Promise.all(chosen.map(prep)),
    handlers: handlerMap,
    tags: [...new Set([...tasks, ...handlers].flatMap((t) => t.options.tags ?? []))],
  };
}

/** Each withResult entry reads a task that runs before it on the host, or the play is refused. */
function readsRunBefore(tasks: readonly Task[], file: string, host: string): void {
  const before = new Set<number>();
  for (const t of tasks) {
    const d = t.deferred;
    if (d !== undefined && !before.has(d.source))
      throw new ConfigError(
        `withResult: the task it reads, "${d.sourceTitle}", does not run before it on this host (it is not in the play, comes after it, or --tags/--skip-tags leave it out)`,
        { file, host, task: `"${t.title}"` },
      );
    before.add(t.uid);
  }
}
