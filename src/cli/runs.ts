import { join, resolve } from 'node:path';
import { displayPath } from '../core/paths.ts';
import { useColor } from '../reporter/color.ts';
import { Command } from '@commander-js/extra-typings';
import type { Redactor } from '../reporter/redact.ts';

// Each command loads what it needs when it runs: the CLI starts without the engine.
const journals = () => import('../runner/journal.ts');
const views = () => import('../reporter/runs-view.ts');

/** `runs`, `show RUN_ID`, `report RUN_ID` and `rollback RUN_ID`: the run journals kept in .fleetbook/runs. */
export function addRunsCommands(program: Command, redactor: Redactor): void {
  program
    .command('runs')
    .description('list recent runs (newest first)')
    .option('-n, --number <n>', 'how many', '20')
    .action(async (o) => {
      const [{ listJournals }, { runLine }] = await Promise.all([journals(), views()]);
      const all = await listJournals(1000);
      for (const j of all.slice(0, Number(o.number))) process.stdout.write(`${runLine(j, all)}\n`);
    });
  program
    .command('show')
    .description('show what a run did on each host')
    .argument('<run-id>')
    .option('--json', 'the run journal as JSON, for tools (secrets masked)', false)
    .action(async (runId, o) => {
      const [{ listJournals, loadJournal }, { runDetails }] = await Promise.all([
        journals(),
        views(),
      ]);
      const journal = await loadJournal(runId);
      process.stdout.write(
        o.json
          ? `${JSON.stringify(journal, null, 2)}\n`
          : runDetails(journal, await listJournals(1000)),
      );
    });
  program
    .command('report')
    .description(
      'write a run as one self-contained HTML file: summary, hosts x tasks, timeline, failures and rollbacks, diffs',
    )
    .argument('<run-id>')
    .option('-o, --output <file>', 'where to write it (default .fleetbook/reports/RUN_ID.html)')
    .action(async (runId, o) => {
      const [{ loadJournal }, { renderReport }, { stateDir, writeAtomic }] = await Promise.all([
        journals(),
        import('../reporter/html-report.ts'),
        import('../state/dir.ts'),
      ]);
      const journal = await loadJournal(runId);
      const file = resolve(o.output ?? join(stateDir(), 'reports', `${journal.runId}.html`));
      await writeAtomic(file, renderReport(journal));
      process.stdout.write(`${displayPath(file)}\n`);
    });
  program
    .command('rollback')
    .description(
      "undo a finished run's changes on its hosts (files edited since are left alone and reported, and undo steps that depend on them skipped with the reason; --check shows the plan)",
    )
    .argument('<run-id>')
    .option('-i, --inventory <file>', "inventory to reach the hosts (default: the run's)")
    .option('-l, --limit <pattern>', 'only these hosts')
    .option('-C, --check', 'report what would be undone; change nothing', false)
    .option('-f, --forks <n>', 'hosts in parallel', '20')
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts', false)
    .option('--lock-wait <s>', 'wait up to S seconds for another run holding a host', '60')
    .option('--connect-timeout <s>', 'give up connecting to a host after S seconds', '15')
    .action(async (runId, o) => {
      const [{ rollbackRun }, { terminalReporter }, { liveTerminal }] = await Promise.all([
        import('../runner/rollback-run.ts'),
        import('../reporter/terminal.ts'),
        import('../reporter/live.ts'),
      ]);
      const emit = terminalReporter((s) => process.stdout.write(s), redactor, {
        diff: false,
        color: useColor(),
        verbose: false,
        live: liveTerminal(),
      });
      process.exitCode = await rollbackRun(
        {
          runId,
          inventory: o.inventory,
          limit: o.limit,
          check: o.check,
          forks: Number(o.forks),
          acceptNewHostKeys: o.acceptNewHostKeys,
          lockWaitSeconds: Number(o.lockWait),
          connectTimeoutSeconds: Number(o.connectTimeout),
          redact: (t) => redactor.redact(t),
        },
        emit,
      );
    });
}
