import { checkEnvironment } from '../core/environments.ts';
import { ConfigError } from '../core/errors.ts';
import type { Playbook } from '../core/playbook.ts';
import {
  checkKeyFiles,
  loadInventory,
  type Inventory,
  type ResolvedHost,
} from '../inventory/load.ts';
import { targetHosts } from '../inventory/select.ts';
import { loadSecrets } from '../secrets/store.ts';
import { preloadCipher } from '../secrets/vault.ts';
import { NO_EXTRA_VARS, type ExtraVars } from './extra-vars.ts';
import type { PreparedHost } from './host-run.ts';
import { lastRun } from './journal.ts';
import { loadPlaybook } from './load-playbook.ts';
import type { HostFacts } from '../core/host-facts.ts';
import type { HostView } from '../core/task.ts';
import { hostView, prepareTasks, type Filters } from './prepare.ts';

/** `-u`, `--private-key` and `-b`: connection settings that win over the inventory's, for every host. */
export interface ConnectionOverrides {
  readonly user?: string | undefined;
  readonly key?: string | undefined;
  readonly become?: boolean | undefined;
}

/** What a run, a dry run, `--syntax-check` and the `--list-*` options all load and validate. */
export interface RunInputs extends Filters {
  readonly playbook: string;
  readonly inventory: string;
  readonly check: boolean;
  readonly limit?: string | undefined;
  /** Only the hosts that failed or were unreachable in the last run of this playbook and inventory. */
  readonly retry?: boolean | undefined;
  readonly extraVars?: ExtraVars | undefined;
  readonly connection?: ConnectionOverrides | undefined;
  /** Called with every secret value before anything is printed, so reporters can mask it. */
  readonly onSecret?: (value: string) => void;
}

export interface PreparedRun {
  readonly inv: Inventory;
  readonly playbook: Playbook;
  readonly file: string;
  readonly hosts: readonly ResolvedHost[];
  /** Each host's vars and secrets, checked; its facts are added when the playbook reads them. */
  readonly views: ReadonlyMap<string, HostView>;
  /**
   * Each host's tasks, validated and prepared; empty when the playbook reads host facts, whose
   * tasks are made once the facts are read (see prepareWithFacts).
   */
  readonly prepared: ReadonlyMap<string, PreparedHost>;
  readonly warnings: readonly string[];
}

/** The inventory's connection with -u, --private-key and -b applied. */
export function overridden(h: ResolvedHost, o: ConnectionOverrides | undefined): ResolvedHost {
  if (o === undefined || h.connection === 'local') return h;
  return {
    ...h,
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.key !== undefined ? { key: o.key, keyField: '--private-key' } : {}),
    ...(o.become !== undefined ? { become: o.become } : {}),
  };
}

/** Hosts of the last run of this playbook and inventory that did not succeed. */
async function retryHosts(
  file: string,
  inv: Inventory,
  hosts: readonly ResolvedHost[],
): Promise<ResolvedHost[]> {
  const last = await lastRun(file, inv.file);
  if (last === undefined)
    throw new ConfigError(
      `--retry: no earlier run of ${file} with ${inv.file} (see \`fleetbook runs\`)`,
    );
  const again = new Set(
    Object.entries(last.hosts)
      .filter(([, h]) => h.status !== 'ok' && h.status !== 'changed')
      .map(([n]) => n),
  );
  const left = hosts.filter((h) => again.has(h.name));
  if (left.length === 0)
    throw new ConfigError(`--retry: every host of run ${last.runId} succeeded; nothing to retry`);
  return left;
}

/**
 * Load the inventory and the playbook and validate everything that can be checked without a
 * host: environment, selection, vars, tasks, templates. `connecting: false` (syntax check,
 * listings) also skips what only a connection needs: key files, and secrets are never stored.
 */
export async function prepareRun(
  opts: RunInputs,
  { connecting }: { connecting: boolean },
): Promise<PreparedRun> {
  const inv = await loadInventory(opts.inventory);
  await preloadCipher(inv.environment);
  const { playbook, file } = await loadPlaybook(opts.playbook);
  checkEnvironment(inv.environment, [...inv.environments, ...playbook.environments], inv.file);
  let hosts = targetHosts(inv, playbook.hosts, opts.limit).map((h) =>
    overridden(h, opts.connection),
  );
  if (opts.retry === true) hosts = await retryHosts(file, inv, hosts);
  if (hosts.length === 0) {
    throw new ConfigError(
      `no hosts selected (playbook hosts: ${playbook.hosts.join(',')}${opts.limit !== undefined ? `, --limit ${opts.limit}` : ''})`,
      { file: inv.file },
    );
  }
  if (connecting) await checkKeyFiles(inv, hosts);
  const secrets = await loadSecrets(inv.environment, playbook.secrets, {
    store: connecting && !opts.check,
    placeholders: !connecting,
  });
  for (const v of Object.values(secrets.values)) opts.onSecret?.(v);
  const views = new Map<string, HostView>();
  const prepared = new Map<string, PreparedHost>();
  for (const h of hosts) {
    const view = hostView(playbook, inv, h, secrets.values, opts.extraVars ?? NO_EXTRA_VARS);
    views.set(h.name, view);
    if (!playbook.facts) prepared.set(h.name, await prepareTasks(playbook, file, view, h, opts));
  }
  const warnings = [
    // A playbook that reads facts has no tasks until they are read: its tags cannot be judged yet.
    ...(playbook.facts ? [] : unmatchedTags(opts, [...prepared.values()])),
    ...(connecting
      ? secrets.temporary.map(
          (n) =>
            `secret ${n} is not generated yet: this check run used a temporary value and stored nothing; the first real run generates and stores it`,
        )
      : []),
    ...(secrets.unreadable === undefined
      ? []
      : [
          `the secrets of ${inv.environment} could not be read, so placeholders stood in: ${secrets.unreadable}`,
        ]),
    ...secrets.unset.map(
      (n) =>
        `secret ${n} is not set for ${inv.environment}: a placeholder stood in; set it before a real run (fleetbook secret set ${inv.environment} ${n})`,
    ),
  ];
  return { inv, playbook, file, hosts, views, prepared, warnings };
}

/**
 * The tasks of the hosts whose facts were read, made and prepared from them: every host is
 * validated before any is changed. A host without facts (unreachable) gets none.
 */
export async function prepareWithFacts(
  run: PreparedRun,
  filters: Filters,
  facts: ReadonlyMap<string, HostFacts>,
): Promise<Map<string, PreparedHost>> {
  const out = new Map<string, PreparedHost>();
  for (const h of run.hosts) {
    const view = run.views.get(h.name);
    const f = facts.get(h.name);
    if (view === undefined || f === undefined) continue;
    out.set(h.name, await prepareTasks(run.playbook, run.file, { ...view, facts: f }, h, filters));
  }
  return out;
}

/** A --tags or --skip-tags name that no task of any selected host carries is most likely a typo. */
export function unmatchedTags(f: Filters, hosts: readonly PreparedHost[]): string[] {
  const all = new Set(hosts.flatMap((h) => h.tags));
  return [...(f.tags ?? []), ...(f.skipTags ?? [])]
    .filter((t) => !all.has(t))
    .map(
      (t) =>
        `no task is tagged "${t}" (tags in this playbook: ${[...all].sort().join(', ') || 'none'})`,
    );
}
