import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { ConfigError } from '../core/errors.ts';
import { loadInventory, type ResolvedHost } from '../inventory/load.ts';
import { targetHosts } from '../inventory/select.ts';
import { connectLocal } from '../transport/local.ts';
import { connectSsh } from '../transport/ssh.ts';
import type { Transport } from '../transport/types.ts';
import type { Emit, HostRecap } from './events.ts';
import { runHost, type PreparedHost } from './host-run.ts';
import { loadPlaybook } from './load-playbook.ts';
import { prepareHost, type Filters } from './prepare.ts';
import { loadSecrets } from '../secrets/store.ts';

export interface RunOptions extends Filters {
  readonly playbook: string;
  readonly inventory: string;
  readonly check: boolean;
  readonly limit?: string | undefined;
  readonly forks: number;
  readonly rollback: boolean;
  readonly acceptNewHostKeys: boolean;
  /** Called with every secret value before anything is printed, so reporters can mask it. */
  readonly onSecret?: (value: string) => void;
}

export interface RunResult {
  readonly runId: string;
  readonly recap: readonly HostRecap[];
  readonly exitCode: number;
}

export const EXIT = { ok: 0, config: 1, failed: 2, unreachable: 4 } as const;

export function newRunId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** Exit status: 2 if any task failed, else 4 if any host was unreachable, else 0. */
export function exitCodeFor(recap: readonly HostRecap[]): number {
  if (recap.some((r) => r.failed > 0)) return EXIT.failed;
  if (recap.some((r) => r.unreachable)) return EXIT.unreachable;
  return EXIT.ok;
}

function connector(h: ResolvedHost, acceptNew: boolean): () => Promise<Transport> {
  if (h.connection === 'local') return () => Promise.resolve(connectLocal());
  return () =>
    connectSsh({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      key: h.key,
      knownHosts: h.knownHosts,
      acceptNewHostKeys: acceptNew || h.acceptNewHostKeys,
    });
}

/**
 * Run a playbook against an inventory. Everything that can be validated is validated for every
 * host before the first connection; then hosts run in parallel, `forks` at a time.
 */
export async function runPlaybook(opts: RunOptions, emit: Emit): Promise<RunResult> {
  const started = Date.now();
  const inv = await loadInventory(opts.inventory);
  const { playbook, file } = await loadPlaybook(opts.playbook);
  const hosts = targetHosts(inv, playbook.hosts, opts.limit);
  if (hosts.length === 0)
    throw new ConfigError(
      `no hosts selected (playbook hosts: ${playbook.hosts.join(',')}${opts.limit !== undefined ? `, --limit ${opts.limit}` : ''})`,
      { file: inv.file },
    );
  const secrets = await loadSecrets(inv.environment, playbook.secrets);
  for (const v of Object.values(secrets)) opts.onSecret?.(v);
  const prepared: PreparedHost[] = [];
  for (const h of hosts) prepared.push(await prepareHost(playbook, file, inv, h, opts, secrets));

  const runId = newRunId();
  emit({
    type: 'run-start',
    runId,
    playbook: file,
    inventory: inv.file,
    environment: inv.environment,
    check: opts.check,
    hosts: hosts.map((h) => h.name),
  });
  const limit = pLimit(Math.max(1, opts.forks));
  const recap = await Promise.all(
    prepared.map((ph, i) =>
      limit(async () => {
        const h = hosts[i];
        if (h === undefined) throw new Error('host list mismatch');
        const r = await runHost(ph, {
          runId,
          check: opts.check,
          rollback: opts.rollback,
          emit,
          connect: connector(h, opts.acceptNewHostKeys),
        });
        emit({ type: 'host-end', recap: r });
        return r;
      }),
    ),
  );
  const exitCode = exitCodeFor(recap);
  emit({ type: 'run-end', runId, recap, durationMs: Date.now() - started, exitCode });
  return { runId, recap, exitCode };
}
