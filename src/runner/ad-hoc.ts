import pLimit from 'p-limit';
import { randomBytes } from 'node:crypto';
import { ConfigError, errorMessage, TaskFailure } from '../core/errors.ts';
import { parseHostFacts, FACTS_SCRIPT, type HostFacts } from '../core/host-facts.ts';
import { raw } from '../core/shell.ts';
import { checkKeyFiles, loadInventory } from '../inventory/load.ts';
import { targetHosts } from '../inventory/select.ts';
import { connector } from '../transport/connect.ts';
import { EXIT } from './exit-codes.ts';
import { closeHost, openHost } from './open-remote.ts';
import { sessionAs } from './prepare.ts';
import { overridden, type ConnectionOverrides } from './prepare-run.ts';
import type { Remote } from './remote.ts';
import type { LockMode } from './session.ts';
import { connectSettings, RUN_DEFAULTS, runWho } from './settings.ts';

/** The hosts of an ad-hoc command (`exec`, `facts`) and how to reach them. */
export interface AdHocOptions {
  readonly inventory: string;
  readonly limit?: string | undefined;
  readonly forks: number;
  readonly connection?: ConnectionOverrides | undefined;
  readonly acceptNewHostKeys: boolean;
  readonly connectTimeoutSeconds?: number | undefined;
  readonly lockWaitSeconds?: number | undefined;
}

export type Unreachable = { readonly host: string; readonly unreachable: string };

/**
 * Do `work` on every selected host over its own session (one connection each, `forks` at a time),
 * as the inventory says (become included); results are handed on as hosts finish.
 */
async function onEachHost<T extends { readonly host: string }>(
  opts: AdHocOptions,
  lock: LockMode,
  work: (remote: Remote, host: string) => Promise<T>,
  onResult: (r: T | Unreachable) => void,
): Promise<(T | Unreachable)[]> {
  const inv = await loadInventory(opts.inventory);
  const hosts = targetHosts(inv, ['all'], opts.limit).map((h) => overridden(h, opts.connection));
  if (hosts.length === 0)
    throw new ConfigError(`no hosts selected (--limit ${opts.limit ?? ''})`, { file: inv.file });
  await checkKeyFiles(inv, hosts);
  const settings = connectSettings(opts);
  const who = runWho(`adhoc-${randomBytes(3).toString('hex')}`);
  const limit = pLimit(opts.forks);
  return Promise.all(
    hosts.map((h) =>
      limit(async () => {
        let r: T | Unreachable;
        try {
          const open = await openHost(connector(h, settings), h.name, sessionAs(h), lock, {
            waitSeconds: opts.lockWaitSeconds ?? RUN_DEFAULTS.lockWaitSeconds,
            who,
          });
          try {
            r = await work(open.remote, h.name);
          } finally {
            await closeHost(open);
          }
        } catch (err) {
          // The host's own words (a session that could not start says why on its stderr).
          const details = err instanceof TaskFailure ? err.details?.trim() : undefined;
          r = {
            host: h.name,
            unreachable: `${errorMessage(err)}${details !== undefined && details !== '' ? `: ${details}` : ''}`,
          };
        }
        onResult(r);
        return r;
      }),
    ),
  );
}

/** What one host said to `exec`: the command's exit code and output. */
export type ExecResult =
  | {
      readonly host: string;
      readonly code: number;
      readonly stdout: string;
      readonly stderr: string;
    }
  | Unreachable;

/**
 * `fleetbook exec`: an ad-hoc command on every selected host, like `ansible HOSTS -a CMD`. It holds
 * each host's lock like a real run, since a command may change anything.
 */
export async function execOnHosts(
  opts: AdHocOptions & { readonly command: string },
  onResult: (r: ExecResult) => void,
): Promise<number> {
  if (opts.command.trim() === '') throw new ConfigError('exec: the command is empty');
  const results = await onEachHost(
    opts,
    'exclusive',
    async (remote, host) => {
      const out = await remote.exec(raw(opts.command));
      return { host, code: out.code, stdout: out.stdout, stderr: out.stderr };
    },
    onResult,
  );
  // As for `run`: a failure outranks an unreachable host.
  if (results.some((r) => 'code' in r && r.code !== 0)) return EXIT.failed;
  return results.some((r) => 'unreachable' in r) ? EXIT.unreachable : EXIT.ok;
}

export type FactsResult = { readonly host: string; readonly facts: HostFacts } | Unreachable;

/** `fleetbook facts`: each host's system facts, read-only, in one round trip (like `ansible -m setup`). */
export async function factsOfHosts(
  opts: AdHocOptions,
  onResult: (r: FactsResult) => void,
): Promise<number> {
  const results = await onEachHost(
    opts,
    'shared',
    async (remote, host) => ({
      host,
      facts: parseHostFacts((await remote.exec(FACTS_SCRIPT)).stdout),
    }),
    onResult,
  );
  return results.some((r) => 'unreachable' in r) ? EXIT.unreachable : EXIT.ok;
}
