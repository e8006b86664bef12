/**
 * The floor: for every host at once, one OpenSSH `ssh` process running one shell command that
 * reads everything the playbook checks, then exits. What it reads is derived from the playbook
 * itself: each selected task's probe (after the runner's own preparation) names its facts.
 */
import { collect } from './spawn.ts';
import type { FactQuery } from '../src/core/facts.ts';
import { shq } from '../src/core/shell.ts';
import { loadInventory, type ResolvedHost } from '../src/inventory/load.ts';
import { targetHosts } from '../src/inventory/select.ts';
import { loadPlaybook } from '../src/runner/load-playbook.ts';
import { FACTS_SCRIPT, type HostFacts } from '../src/core/host-facts.ts';
import { factsOfHosts } from '../src/runner/ad-hoc.ts';
import { hostView, prepareTasks } from '../src/runner/prepare.ts';
import { loadSecrets } from '../src/secrets/store.ts';

/** Everything a no-change run of the playbook reads on one host. */
export interface PlaybookReads {
  /** Every path a task stats (targets, parents, stamps). */
  readonly paths: readonly string[];
  readonly packages: readonly string[];
  readonly users: readonly string[];
  readonly groups: readonly string[];
  /** Service facts, plus the units of managed files under /etc/systemd/system. */
  readonly services: readonly string[];
  /** The playbook's own read-only shell checks (`unless` guards, debconf reads, ...). */
  readonly commands: readonly string[];
  readonly tasks: number;
  /** The playbook reads host facts (`facts: true`): the floor reads them too, in its one command. */
  readonly facts: boolean;
}

const UNIT = /^\/(etc|lib|usr\/lib)\/systemd\/system\/([^/]+\.service)$/;

/** What a list of fact queries reads, grouped the way the floor command reads it. */
export function readsOf(
  queries: readonly FactQuery[],
  tasks: number,
  facts = false,
): PlaybookReads {
  const paths = new Set<string>();
  const packages = new Set<string>();
  const users = new Set<string>();
  const groups = new Set<string>();
  const services = new Set<string>();
  const commands = new Set<string>();
  for (const q of queries) {
    switch (q.kind) {
      case 'file': {
        paths.add(q.path);
        const unit = UNIT.exec(q.path)?.[2];
        if (unit !== undefined) services.add(unit);
        break;
      }
      case 'packages':
        for (const n of q.names) packages.add(n);
        break;
      case 'user':
        users.add(q.name);
        break;
      case 'group':
        groups.add(q.name);
        break;
      case 'service':
        services.add(q.name.includes('.') ? q.name : `${q.name}.service`);
        break;
      case 'command':
        commands.add(q.script.text);
        break;
    }
  }
  const sorted = (s: Set<string>): string[] => [...s].sort();
  return {
    paths: sorted(paths),
    packages: sorted(packages),
    users: sorted(users),
    groups: sorted(groups),
    services: sorted(services),
    commands: [...commands],
    tasks,
    facts,
  };
}

export interface FloorTarget {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly key: string;
  readonly knownHosts: string;
  readonly reads: PlaybookReads;
}

/**
 * Prepare every host exactly as `fleetbook run` does (inventory, vars, secrets, tag filter,
 * template rendering), then ask each selected task's probe what it reads. Needs
 * FLEETBOOK_SECRETS_DIR set like the CLI's.
 */
export async function playbookReads(
  playbookFile: string,
  inventoryFile: string,
  skipTags: readonly string[],
): Promise<FloorTarget[]> {
  const inv = await loadInventory(inventoryFile);
  const { playbook, file } = await loadPlaybook(playbookFile);
  const hosts = targetHosts(inv, playbook.hosts, undefined);
  const secrets = await loadSecrets(inv.environment, playbook.secrets);
  // A playbook that reads host facts makes its tasks from them.
  const facts = playbook.facts ? await readFacts(inventoryFile) : new Map<string, HostFacts>();
  const out: FloorTarget[] = [];
  for (const h of hosts) {
    const ph = await prepareTasks(
      playbook,
      file,
      { ...hostView(playbook, inv, h, secrets.values), facts: facts.get(h.name) },
      h,
      { skipTags: skipTags.length > 0 ? skipTags : undefined },
    );
    const queries = ph.tasks.flatMap((pt) => Object.values(pt.task.probe(pt.prepared)));
    out.push(target(h, readsOf(queries, ph.tasks.length, playbook.facts)));
  }
  return out;
}

/** Every host's system facts, read as `fleetbook facts` reads them. */
export async function readFacts(inventoryFile: string): Promise<Map<string, HostFacts>> {
  const facts = new Map<string, HostFacts>();
  await factsOfHosts({ inventory: inventoryFile, forks: 20, acceptNewHostKeys: false }, (r) => {
    if (!('facts' in r)) throw new Error(`${r.host}: facts: ${r.unreachable}`);
    facts.set(r.host, r.facts);
  });
  return facts;
}

function target(h: ResolvedHost, reads: PlaybookReads): FloorTarget {
  if (h.key === undefined) throw new Error(`${h.name}: the floor needs a key in the inventory`);
  return {
    host: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    key: h.key,
    knownHosts: h.knownHosts,
    reads,
  };
}

export const FLOOR_END = '@@floor-end';

/**
 * One shell command, as a person would write it: one `stat` for every path, one `sha256sum` for
 * every file (directories and missing paths only print an error), one `dpkg-query`, one `getent`
 * per database, one `systemctl show`. With `commands`, the playbook's own shell checks run too,
 * each in a subshell, printing only its exit status.
 */
export function floorScript(r: PlaybookReads, commands: boolean): string {
  const q = (xs: readonly string[]): string => xs.map(shq).join(' ');
  const lines = ['LC_ALL=C; export LC_ALL'];
  if (r.facts)
    lines.push(`( ${FACTS_SCRIPT.text}
)`);
  if (r.paths.length > 0) {
    lines.push(`stat -c '%n|%F|%a|%U|%G|%s|%Y' -- ${q(r.paths)} 2>/dev/null`);
    lines.push(`sha256sum -- ${q(r.paths)} 2>/dev/null`);
  }
  if (r.packages.length > 0)
    lines.push(
      `dpkg-query -W -f='\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' -- ${q(r.packages)} 2>/dev/null`,
    );
  if (r.users.length > 0) lines.push(`getent passwd ${q(r.users)}`);
  if (r.groups.length > 0) lines.push(`getent group ${q(r.groups)}`);
  if (r.services.length > 0)
    lines.push(
      `systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -- ${q(r.services)}`,
    );
  if (commands)
    r.commands.forEach((c, i) => {
      lines.push(`( ${c}\n) </dev/null >/dev/null 2>&1; echo "check ${i}: $?"`);
    });
  lines.push(`echo ${FLOOR_END}`);
  return lines.join('\n');
}

/** OpenSSH with the inventory's key and known_hosts, nothing from ~/.ssh, host keys verified. */
export function sshArgv(t: FloorTarget, command: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    t.key,
    '-p',
    String(t.port),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${t.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=30',
    '-o',
    'LogLevel=ERROR',
    `${t.user}@${t.address}`,
    command,
  ];
}

export interface FloorResult {
  readonly wallMs: number;
  /** Bytes of output per host (median). */
  readonly outBytes: number;
  /** Slowest single ssh process. */
  readonly slowestMs: number;
  readonly sample: string;
}

/** Every host at once; wall time until the last ssh has exited. Fails if any host did not answer in full. */
export async function runFloor(
  targets: readonly FloorTarget[],
  commands: boolean,
): Promise<FloorResult> {
  const scripts = targets.map((t) => floorScript(t.reads, commands));
  const t0 = performance.now();
  const results = await Promise.all(
    targets.map(async (t, i) => ({
      host: t.host,
      ...(await collect('ssh', sshArgv(t, scripts[i] ?? ''))),
    })),
  );
  const wallMs = performance.now() - t0;
  const bad = results.filter((r) => r.code !== 0 || !r.stdout.includes(FLOOR_END));
  if (bad.length > 0) {
    const b = bad[0];
    throw new Error(
      `floor: ${bad.length} of ${results.length} hosts failed, e.g. ${b?.host ?? ''} exit ${b?.code ?? ''}: ${b?.stderr.trim() ?? ''}`,
    );
  }
  const sizes = results.map((r) => r.stdout.length).sort((a, b) => a - b);
  return {
    wallMs,
    outBytes: sizes[Math.floor(sizes.length / 2)] ?? 0,
    slowestMs: Math.max(...results.map((r) => r.ms)),
    sample: results[0]?.stdout ?? '',
  };
}
