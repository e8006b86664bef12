import { Command } from '@commander-js/extra-typings';

/**
 * The demo a newcomer runs first: a 3-host lab, the Django production playbook with the
 * development inventory's vars pointed at the lab's hosts and smarthost, a dry run with diffs,
 * the real run, and a second run that must change nothing.
 */
export function demoCommand(): Command<[], { hosts: string }> {
  return new Command('demo')
    .description(
      'start a 3-host lab and deploy the reference Django site to it: dry run, apply, verify mail',
    )
    .option('--hosts <n>', 'lab hosts', '3')
    .action(async (o) => {
      const { runDemo } = await import('./demo-run.ts');
      await runDemo(o.hosts);
    });
}
