import type { Task } from '../core/task.ts';
import { hopName } from '../transport/types.ts';
import type { PreparedRun } from './prepare-run.ts';

/**
 * `--list-hosts`, `--list-tasks`, `--list-tags` and `--syntax-check`: what a run would do, from
 * the loaded and validated playbook alone. Nothing here connects to a host.
 */

function header(run: PreparedRun): string {
  return `playbook ${run.file} with ${run.inv.file} (environment ${run.inv.environment})`;
}

export function listHosts(run: PreparedRun): string {
  const width = Math.max(...run.hosts.map((h) => h.name.length));
  return [
    `${header(run)}: ${run.hosts.length} host${run.hosts.length === 1 ? '' : 's'}`,
    ...run.hosts.map(
      (h) =>
        `  ${h.name.padEnd(width)}  ${h.connection === 'local' ? 'local' : hopName(h)}` +
        (h.jumps.length > 0 ? `  via ${h.jumps.map(hopName).join(', ')}` : '') +
        (h.groups.length > 0 ? `  groups: ${h.groups.join(', ')}` : ''),
    ),
  ].join('\n');
}

function taskLine(t: Task): string {
  const name = t.options.name !== undefined ? `${t.title} (${t.type})` : t.title;
  const tags = t.options.tags ?? [];
  const notify = t.options.notify ?? [];
  return `    ${name}${tags.length > 0 ? `  tags: ${tags.join(', ')}` : ''}${notify.length > 0 ? `  notify: ${notify.join(', ')}` : ''}`;
}

const FROM_FACTS =
  'made from host facts when the playbook runs (`fleetbook run --check` reads them, read-only)';

/** Tasks are a function of the host: hosts whose lists are the same are shown together. */
export function listTasks(run: PreparedRun): string {
  if (run.playbook.facts) return `${header(run)}\n  tasks: ${FROM_FACTS}`;
  const groups = new Map<string, string[]>();
  for (const [name, ph] of run.prepared) {
    const lines = [
      ...(ph.tasks.length > 0
        ? ph.tasks.map((pt) => taskLine(pt.task))
        : ['    (no task selected)']),
      ...(ph.handlers.size > 0
        ? ['  handlers:', ...[...ph.handlers.values()].map((pt) => taskLine(pt.task))]
        : []),
    ].join('\n');
    groups.set(lines, [...(groups.get(lines) ?? []), name]);
  }
  return [
    header(run),
    ...[...groups].map(([lines, hosts]) => `  tasks on ${hosts.join(', ')}:\n${lines}`),
  ].join('\n');
}

export function listTags(run: PreparedRun): string {
  if (run.playbook.facts) return `${header(run)}\n  tags: of the tasks ${FROM_FACTS}`;
  const tags = [...new Set([...run.prepared.values()].flatMap((ph) => ph.tags))].sort();
  return `${header(run)}\n  tags: ${tags.length > 0 ? tags.join(', ') : '(none)'}`;
}

export function syntaxCheck(run: PreparedRun): string {
  const hosts = `${run.hosts.length} host${run.hosts.length === 1 ? '' : 's'}`;
  if (run.playbook.facts)
    return `${header(run)}: syntax ok (${hosts}, vars and secrets validated; tasks not validated: ${FROM_FACTS}; nothing was contacted)`;
  const tasks = [...run.prepared.values()].reduce((n, ph) => n + ph.tasks.length, 0);
  return `${header(run)}: syntax ok (${hosts}, ${tasks} task${tasks === 1 ? '' : 's'} validated; nothing was contacted)`;
}
