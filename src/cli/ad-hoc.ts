import { Command } from '@commander-js/extra-typings';
import type { HostFacts } from '../core/host-facts.ts';
import type { Redactor } from '../reporter/redact.ts';
import type { ExecResult, FactsResult } from '../runner/ad-hoc.ts';
import {
  becomeOption,
  connectTimeoutOption,
  positiveInt,
  privateKeyOption,
  userOption,
} from './args.ts';

/** The options `exec` and `facts` share: which hosts, and how to reach them. */
function adHoc(name: string, description: string) {
  return new Command(name)
    .description(description)
    .requiredOption('-i, --inventory <file>', 'inventory file (YAML or .ts)')
    .option('-l, --limit <pattern>', 'only these hosts/groups: "web,db", "lab*", "!lab3"')
    .addOption(userOption())
    .addOption(privateKeyOption())
    .addOption(becomeOption())
    .option('-f, --forks <n>', 'hosts at once', positiveInt, 20)
    .option('--json', 'one JSON object per host on stdout', false)
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts', false)
    .addOption(connectTimeoutOption());
}

function hostsOf(o: {
  inventory: string;
  limit?: string | undefined;
  user?: string | undefined;
  privateKey?: string | undefined;
  become?: true | undefined;
  forks: number;
  acceptNewHostKeys: boolean;
  connectTimeout: number;
}) {
  return {
    inventory: o.inventory,
    limit: o.limit,
    forks: o.forks,
    connection: { user: o.user, key: o.privateKey, become: o.become },
    acceptNewHostKeys: o.acceptNewHostKeys,
    connectTimeoutSeconds: o.connectTimeout,
  };
}

/** Ansible's ad-hoc shape: `web1 | SUCCESS | rc=0 >>` and the output under it. */
function showExec(r: ExecResult): string {
  if ('unreachable' in r) return `${r.host} | UNREACHABLE: ${r.unreachable}\n`;
  const out = [r.stdout, r.stderr]
    .filter((t) => t !== '')
    .map((t) => (t.endsWith('\n') ? t : `${t}\n`))
    .join('');
  return `${r.host} | ${r.code === 0 ? 'SUCCESS' : 'FAILED'} | rc=${String(r.code)} >>\n${out}`;
}

function net(a: HostFacts['ipv4']): string {
  return a === null ? 'none' : `${a.address} (${a.interface})`;
}

function showFacts(r: FactsResult): string {
  if ('unreachable' in r) return `${r.host} | UNREACHABLE: ${r.unreachable}\n`;
  const f = r.facts;
  return [
    `${r.host}: ${f.os.prettyName || f.os.id} ${f.architecture}, kernel ${f.kernel}, ${String(f.cpus)} CPUs, ${String(f.memoryMb)} MB, init ${f.init}`,
    `  hostname ${f.hostname}, fqdn ${f.fqdn}`,
    `  ipv4 ${net(f.ipv4)}, ipv6 ${net(f.ipv6)}`,
    '',
  ].join('\n');
}

export function execCommand(redactor: Redactor) {
  return adHoc(
    'exec',
    'run an ad-hoc shell command on the hosts (as the inventory says, become included): output and exit code per host',
  )
    .argument('<command>', 'a shell command for /bin/sh on each host')
    .action(async (command, o) => {
      const { execOnHosts } = await import('../runner/ad-hoc.ts');
      process.exitCode = await execOnHosts({ ...hostsOf(o), command }, (r) => {
        process.stdout.write(redactor.redact(o.json ? `${JSON.stringify(r)}\n` : showExec(r)));
      });
    });
}

export function factsCommand(redactor: Redactor) {
  return adHoc(
    'facts',
    "print each host's facts (OS, architecture, kernel, names, CPUs, memory, default addresses, init), read-only",
  ).action(async (o) => {
    const { factsOfHosts } = await import('../runner/ad-hoc.ts');
    process.exitCode = await factsOfHosts(hostsOf(o), (r) => {
      process.stdout.write(redactor.redact(o.json ? `${JSON.stringify(r)}\n` : showFacts(r)));
    });
  });
}
