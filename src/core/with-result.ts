import { ConfigError } from './errors.ts';
import { isTask, newTaskUid, type Task, type TaskList, type TaskOptions } from './task.ts';

/**
 * Tasks made from an earlier task's result on the same host, the typed form of Ansible's
 * `register` + `when`: `withResult(user, (u) => templateFile({ ..., vars: { uid: u.uid } }))`.
 * `make` runs on the controller once the task has run on the host; the tasks it returns are
 * validated and prepared then, and run in this entry's place. In check mode, a result that cannot
 * be known (a user that would be created has no uid yet) makes this entry `unknown`, with the
 * reason; its tasks are never planned from a guess.
 */
export function withResult<R>(
  source: Task<R>,
  make: (result: R) => TaskList,
  options: Pick<TaskOptions, 'name' | 'tags'> = {},
): Task<never> {
  const where = {
    task: options.name !== undefined ? `withResult "${options.name}"` : 'withResult',
  };
  if (!isTask(source))
    throw new ConfigError(
      'expected the task whose result it reads (made by a task factory) as the first argument',
      { ...where, field: 'source' },
    );
  if (source.deferred !== undefined)
    throw new ConfigError(
      `"${source.title}" is a withResult entry, which has no result of its own: read the task it reads`,
      { ...where, field: 'source' },
    );
  if (typeof make !== 'function')
    throw new ConfigError('expected a function from the result to tasks as the second argument', {
      ...where,
      field: 'make',
    });
  return {
    kind: 'task',
    uid: newTaskUid(),
    type: 'withResult',
    title: options.name ?? `withResult ${source.title}`,
    options,
    params: {},
    prepare: () => Promise.resolve(undefined),
    probe: () => ({}),
    // The runner expands the entry instead of planning it; a plan is never asked of it.
    plan: () => ({ status: 'fail', message: 'a withResult entry is expanded by the runner' }),
    result: () => undefined,
    deferred: {
      source: source.uid,
      sourceTitle: source.title,
      make: make as (result: unknown) => TaskList,
      adapt: (t) => t,
    },
  };
}
