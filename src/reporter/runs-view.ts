import type { Journal } from '../runner/journal.ts';
import { printedText } from '../runner/events.ts';

const STATUSES = [
  'ok',
  'changed',
  'would-change',
  'unknown',
  'failed',
  'rolled-back',
  'unreachable',
  'running',
  'not-started',
] as const;

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Task outcomes of a run, summed over hosts: what a check run found, what a real run did. */
function taskCounts(j: Journal): string {
  const tasks = Object.values(j.hosts).flatMap((h) => h.tasks);
  const n = (o: string): number => tasks.filter((t) => t.outcome === o).length;
  const parts = j.check
    ? [`${n('would-change')} would change`, `${n('unknown')} unknown`, `${n('failed')} failed`]
    : [`${n('changed')} changed`, `${n('failed')} failed`];
  return `tasks: ${parts.join(', ')}`;
}

/**
 * Whether a run can still be rolled back, as far as this controller's journals tell: backups are
 * pruned on each host by later runs (--keep-backups).
 */
export function rollbackState(j: Journal, all: readonly Journal[]): string {
  if (j.check) return '';
  const withUndo = Object.entries(j.hosts).filter(([, h]) => h.undo.length > 0);
  if (withUndo.length === 0) return 'nothing to roll back';
  const pending = withUndo.filter(([, h]) => !h.rolledBack);
  if (pending.length === 0) return 'rolled back';
  const pruned = pending
    .filter(([host]) => all.some((o) => o.hosts[host]?.prunedBackups?.includes(j.runId) === true))
    .map(([host]) => host);
  if (pruned.length === 0) return 'can be rolled back';
  return pruned.length === pending.length
    ? 'backups pruned: its file changes can no longer be rolled back'
    : `backups pruned on ${pruned.join(', ')}`;
}

/** One line of `fleetbook runs`. */
export function runLine(j: Journal, all: readonly Journal[]): string {
  const statuses = STATUSES.map(
    (s) => [s, Object.values(j.hosts).filter((h) => h.status === s).length] as const,
  ).filter(([, n]) => n > 0);
  const hosts = statuses.map(([s, n]) => `${n} ${s}`).join(', ');
  const state = j.finishedAt === undefined ? 'did not finish' : `exit ${j.exitCode ?? '?'}`;
  const rb = rollbackState(j, all);
  return `${j.runId}  ${j.check ? 'check' : 'apply'}  ${j.playbook}  ${j.inventory}  ${state}  hosts: ${hosts}; ${taskCounts(j)}${rb !== '' ? `; ${rb}` : ''}`;
}

/** `fleetbook show RUN_ID`: what the run did on each host, task by task. */
export function runDetails(j: Journal, all: readonly Journal[]): string {
  const out = [
    `run ${j.runId} (${j.check ? 'check: --check, nothing was changed' : 'apply'}) of ${j.playbook} on ${j.inventory}, environment ${j.environment}`,
    `started ${j.startedAt}, ${j.finishedAt === undefined ? 'did not finish (the controller stopped); its journal was rebuilt from its log' : `finished ${j.finishedAt}, exit code ${j.exitCode ?? '?'}`}`,
    taskCounts(j),
  ];
  const rb = rollbackState(j, all);
  if (rb !== '') out.push(`rollback: ${rb}`);
  if (j.stopped !== undefined) out.push(`rollout stopped early: ${j.stopped}`);
  for (const [host, h] of Object.entries(j.hosts)) {
    out.push(`\n${host}: ${h.status}${h.rolledBack ? ' (changes undone)' : ''}`);
    for (const t of h.tasks) {
      out.push(
        `  ${String(t.index).padStart(3)}. ${t.outcome.padEnd(12)} ${t.handler ? 'handler: ' : ''}${t.title} (${t.durationMs} ms)`,
      );
      for (const c of t.changes) out.push(`         ${c}`);
      if (t.message !== undefined)
        out.push(`         ${t.message.split('\n').join('\n         ')}`);
      for (const s of t.sideEffects ?? []) out.push(`         side effect, cannot be undone: ${s}`);
      for (const o of t.output ?? []) {
        out.push(`         output of ${o.step}:`);
        for (const line of printedText(o).split('\n')) out.push(`           | ${line}`);
      }
    }
    if (h.undo.length > 0) out.push(`  undo recorded: ${plural(h.undo.length, 'step')}`);
    if (h.prunedBackups !== undefined && h.prunedBackups.length > 0)
      out.push(`  pruned the backups of ${plural(h.prunedBackups.length, 'older run')}`);
  }
  return `${out.join('\n')}\n`;
}
