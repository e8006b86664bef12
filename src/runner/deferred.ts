import { ConfigError, errorMessage } from '../core/errors.ts';
import { flattenTasks } from '../core/playbook.ts';
import type { Deferred, HostView, Task } from '../core/task.ts';
import type { PreparedTask, ResultState } from './task-run.ts';

/** What a `withResult` entry stands for on one host: the tasks it made, prepared; or why none run. */
export type Expansion =
  | { readonly ok: true; readonly tasks: readonly PreparedTask[] }
  | { readonly ok: false; readonly outcome: 'unknown' | 'failed'; readonly message: string };

/** The `uid`s of the tasks the `withResult` entries of a list read: their results are worked out. */
export function resultsRead(tasks: readonly { readonly task: Task }[]): number[] {
  return tasks.flatMap((pt) => (pt.task.deferred !== undefined ? [pt.task.deferred.source] : []));
}

/**
 * Make a `withResult` entry's tasks from the result of the task it reads, then validate and
 * prepare them, as every task was before the run. A result check mode cannot know makes the entry
 * `unknown`; a bad task made from it, or a notify of no handler, fails it (on this host only).
 */
export async function expandDeferred(
  d: Deferred,
  result: ResultState | undefined,
  view: HostView,
  handlers: ReadonlySet<string>,
): Promise<Expansion> {
  if (result === undefined)
    return {
      ok: false,
      outcome: 'failed',
      message: `the task it reads, "${d.sourceTitle}", did not run before it on this host`,
    };
  if (!result.known)
    return {
      ok: false,
      outcome: 'unknown',
      message: `depends on the result of "${d.sourceTitle}": ${result.why}`,
    };
  try {
    const made = flattenTasks([d.make(result.value)], `withResult "${d.sourceTitle}"`).map(d.adapt);
    for (const t of made)
      for (const n of t.options.notify ?? [])
        if (!handlers.has(n))
          throw new ConfigError(`notify: no handler named "${n}"`, { task: `"${t.title}"` });
    const tasks = await Promise.all(
      made.map(async (task) => ({ task, prepared: await task.prepare(view) })),
    );
    return { ok: true, tasks };
  } catch (err) {
    return {
      ok: false,
      outcome: 'failed',
      message: `the tasks made from the result of "${d.sourceTitle}": ${errorMessage(err)}`,
    };
  }
}
