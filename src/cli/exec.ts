import { Command } from '@commander-js/extra-typings';
import type { Redactor } from '../reporter/redact.ts';
import type { ExecResult } from '../runner/exec.ts';
import { positiveInt } from './args.ts';

/** Ansible's ad-hoc shape: `web1 | SUCCESS | rc=0 >>` and the output under it. */
function show(r: ExecResult): string {
  if ('unreachable' in r) return `${r.host} | UNREACHABLE: ${r.unreachable}\n`;
  const out = [r.stdout, r.stderr]
    .filter((t) => t !== '')
    .map((t) => (t.endsWith('\n') ? t : `${t}\n`))
    .join('');
  return `${r.host} | ${r.code === 0 ? 'SUCCESS' : 'FAILED'} | rc=${String(r.code)} >>\n${out}`;
}

export function execCommand(redactor: Redactor) {
  return new Command('exec')
    .description(
      'run an ad-hoc shell command on the hosts (as the inventory says, become included): output and exit code per host',
    )
    .argument('<command>', 'a shell command for /bin/sh on each host')
    .requiredOption('-i, --inventory <file>', 'inventory file (YAML or .ts)')
    .option('-l, --limit <pattern>', 'only these hosts/groups: "web,db", "lab*", "!lab3"')
    .option('-u, --user <name>', 'connect as this user on every host (overrides the inventory)')
    .option('--private-key <file>', 'SSH private key for every host (overrides the inventory)')
    .option('-b, --become', 'act as root through sudo -n on every host (overrides the inventory)')
    .option('-f, --forks <n>', 'hosts at once', positiveInt, 20)
    .option('--json', 'one JSON object per host on stdout', false)
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts', false)
    .option(
      '--connect-timeout <s>',
      'give up connecting to a host after S seconds',
      positiveInt,
      15,
    )
    .action(async (command, o) => {
      const { execOnHosts } = await import('../runner/exec.ts');
      process.exitCode = await execOnHosts(
        {
          inventory: o.inventory,
          command,
          limit: o.limit,
          forks: o.forks,
          connection: { user: o.user, key: o.privateKey, become: o.become },
          acceptNewHostKeys: o.acceptNewHostKeys,
          connectTimeoutSeconds: o.connectTimeout,
        },
        (r) => {
          process.stdout.write(redactor.redact(o.json ? `${JSON.stringify(r)}\n` : show(r)));
        },
      );
    });
}
