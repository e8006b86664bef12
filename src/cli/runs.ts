import { Command } from '@commander-js/extra-typings';
import { listJournals, loadJournal, type Journal } from '../runner/journal.ts';
import { rollbackRun } from '../runner/rollback-run.ts';
import { terminalReporter } from '../reporter/terminal.ts';
import type { Redactor } from '../reporter/redact.ts';

function count(j: Journal, status: string): number {
  return Object.values(j.hosts).filter((h) => h.status === status).length;
}

function line(j: Journal): string {
  const statuses = ['ok', 'changed', 'failed', 'rolled-back', 'unreachable', 'not-started']
    .map((s) => [s, count(j, s)] as const)
    .filter(([, n]) => n > 0);
  return `${j.runId}  ${j.check ? 'check' : 'apply'}  ${j.playbook}  ${j.inventory}  exit ${j.exitCode ?? '?'}  ${statuses.map(([s, n]) => `${n} ${s}`).join(', ')}`;
}

function show(j: Journal): string {
  const out = [
    `run ${j.runId} (${j.check ? '--check' : 'apply'}) of ${j.playbook} on ${j.inventory}, environment ${j.environment}`,
    `started ${j.startedAt}, finished ${j.finishedAt ?? '(not finished)'}, exit code ${j.exitCode ?? '?'}`,
  ];
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
    }
    if (h.undo.length > 0)
      out.push(`  undo recorded: ${h.undo.length} step${h.undo.length === 1 ? '' : 's'}`);
  }
  return `${out.join('\n')}\n`;
}

/** `runs`, `show RUN_ID` and `rollback RUN_ID`: the run journals kept in .fleetbook/runs. */
export function addRunsCommands(program: Command, redactor: Redactor): void {
  program
    .command('runs')
    .description('list recent runs (newest first)')
    .option('-n, --number <n>', 'how many', '20')
    .action(async (o) => {
      for (const j of await listJournals(Number(o.number))) process.stdout.write(`${line(j)}\n`);
    });
  program
    .command('show')
    .description('show what a run did on each host')
    .argument('<run-id>')
    .action(async (runId) => {
      process.stdout.write(show(await loadJournal(runId)));
    });
  program
    .command('rollback')
    .description(
      "undo a finished run's changes on its hosts (files edited since are left alone and reported)",
    )
    .argument('<run-id>')
    .option('-i, --inventory <file>', "inventory to reach the hosts (default: the run's)")
    .option('-l, --limit <pattern>', 'only these hosts')
    .option('-C, --check', 'report what would be undone; change nothing', false)
    .option('-f, --forks <n>', 'hosts in parallel', '20')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts', false)
    .action(async (runId, o) => {
      const emit = terminalReporter((s) => process.stdout.write(s), redactor, {
        diff: false,
        color: process.stdout.isTTY,
        verbose: false,
      });
      process.exitCode = await rollbackRun(
        {
          runId,
          inventory: o.inventory,
          limit: o.limit,
          check: o.check,
          forks: Number(o.forks),
          acceptNewHostKeys: o.acceptNewHostKeys,
          redact: (t) => redactor.redact(t),
        },
        emit,
      );
    });
}
