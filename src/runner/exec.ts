import pLimit from 'p-limit';
import { randomBytes } from 'node:crypto';
import { ConfigError, errorMessage, TaskFailure } from '../core/errors.ts';
import { raw } from '../core/shell.ts';
import { checkKeyFiles, loadInventory } from '../inventory/load.ts';
import { targetHosts } from '../inventory/select.ts';
import { connector } from '../transport/connect.ts';
import { EXIT } from './exit-codes.ts';
import { openRemote } from './open-remote.ts';
import { runsAsRoot } from './prepare.ts';
import { overridden, type ConnectionOverrides } from './prepare-run.ts';
import { connectSettings, RUN_DEFAULTS, runWho } from './settings.ts';

export interface ExecOptions {
  readonly inventory: string;
  readonly command: string;
  readonly limit?: string | undefined;
  readonly forks: number;
  readonly connection?: ConnectionOverrides | undefined;
  readonly acceptNewHostKeys: boolean;
  readonly connectTimeoutSeconds?: number | undefined;
  readonly lockWaitSeconds?: number | undefined;
}

/** What one host said: the command's exit code and output, or why it was not reached. */
export type ExecResult =
  | {
      readonly host: string;
      readonly code: number;
      readonly stdout: string;
      readonly stderr: string;
    }
  | { readonly host: string; readonly unreachable: string };

/**
 * `fleetbook exec`: an ad-hoc command on every selected host, like `ansible HOSTS -a CMD`. It runs
 * as the inventory says (become included) and holds each host's lock like a real run, since a
 * command may change anything. Results come back as hosts finish.
 */
export async function execOnHosts(
  opts: ExecOptions,
  onResult: (r: ExecResult) => void,
): Promise<number> {
  if (opts.command.trim() === '') throw new ConfigError('exec: the command is empty');
  const inv = await loadInventory(opts.inventory);
  const hosts = targetHosts(inv, ['all'], opts.limit).map((h) => overridden(h, opts.connection));
  if (hosts.length === 0)
    throw new ConfigError(`no hosts selected (--limit ${opts.limit ?? ''})`, { file: inv.file });
  await checkKeyFiles(inv, hosts);
  const settings = connectSettings(opts);
  const who = runWho(`exec-${randomBytes(3).toString('hex')}`);
  const limit = pLimit(opts.forks);
  const results = await Promise.all(
    hosts.map((h) =>
      limit(async (): Promise<ExecResult> => {
        let r: ExecResult;
        try {
          const transport = await connector(h, settings)();
          try {
            const { remote, session } = await openRemote(
              transport,
              h.name,
              { become: h.become && h.user !== 'root', asRoot: runsAsRoot(h) },
              'exclusive',
              { waitSeconds: opts.lockWaitSeconds ?? RUN_DEFAULTS.lockWaitSeconds, who },
            );
            const out = await remote.exec(raw(opts.command));
            await session.close().catch(() => undefined);
            r = { host: h.name, code: out.code, stdout: out.stdout, stderr: out.stderr };
          } finally {
            await transport.close();
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
  // As for `run`: a failure outranks an unreachable host.
  if (results.some((r) => 'code' in r && r.code !== 0)) return EXIT.failed;
  return results.some((r) => 'unreachable' in r) ? EXIT.unreachable : EXIT.ok;
}
