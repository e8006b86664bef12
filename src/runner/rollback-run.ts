import pLimit from 'p-limit';
import { ConfigError, errorMessage } from '../core/errors.ts';
import { loadInventory } from '../inventory/load.ts';
import { selectHosts } from '../inventory/select.ts';
import { connector } from '../transport/connect.ts';
import { rollbackEvent, type Emit } from './events.ts';
import { loadJournal, saveJournal } from './journal.ts';
import { sessionAs } from './prepare.ts';
import { openRemote } from './open-remote.ts';
import { connectSettings, RUN_DEFAULTS, runWho } from './settings.ts';
import { undoChanges } from './undo.ts';

export interface RollbackOptions {
  readonly runId: string;
  /** Defaults to the inventory the run used. */
  readonly inventory?: string | undefined;
  readonly limit?: string | undefined;
  readonly check: boolean;
  readonly forks: number;
  readonly acceptNewHostKeys: boolean;
  readonly connectTimeoutSeconds?: number | undefined;
  readonly aliveTimeoutSeconds?: number | undefined;
  readonly lockWaitSeconds?: number | undefined;
  readonly redact: (text: string) => string;
}

/**
 * Undo a finished run on its hosts, from its journal and the backups it left on each host.
 * Files changed since the run are left alone and reported; a host already rolled back is skipped.
 * Returns the exit code: 0 when everything was undone, 2 when anything was left or failed.
 */
export async function rollbackRun(opts: RollbackOptions, emit: Emit): Promise<number> {
  const journal = await loadJournal(opts.runId);
  if (journal.check)
    throw new ConfigError(`run ${opts.runId} was a --check run: it changed nothing`);
  const inv = await loadInventory(opts.inventory ?? journal.inventory);
  const chosen = opts.limit === undefined ? undefined : selectHosts(inv, opts.limit, '--limit');
  const targets = Object.entries(journal.hosts).filter(
    ([name, h]) => h.undo.length > 0 && (chosen === undefined || chosen.has(name)),
  );
  if (targets.length === 0)
    throw new ConfigError(
      `run ${opts.runId} has nothing to undo${opts.limit !== undefined ? ` on ${opts.limit}` : ''}`,
    );
  const limit = pLimit(Math.max(1, opts.forks));
  let allOk = true;
  await Promise.all(
    targets.map(([name, hj]) =>
      limit(async () => {
        if (hj.rolledBack) {
          emit(rollbackEvent(name, { step: 'already rolled back', ok: true }));
          return;
        }
        const h = inv.hosts.find((x) => x.name === name);
        if (h === undefined) {
          allOk = false;
          emit(
            rollbackEvent(name, {
              step: 'connect',
              ok: false,
              message: `host is no longer in ${inv.file}`,
            }),
          );
          return;
        }
        try {
          const transport = await connector(h, connectSettings(opts))();
          // A rollback changes the host: it holds the host alone, like a real run (read-only with --check).
          const { remote, session } = await openRemote(
            transport,
            name,
            sessionAs(h),
            opts.check ? 'shared' : 'exclusive',
            {
              waitSeconds: opts.lockWaitSeconds ?? RUN_DEFAULTS.lockWaitSeconds,
              who: runWho(`rollback of ${journal.runId}`),
            },
          );
          const ok = await undoChanges(remote, hj.undo, hj.afterUndo, opts.check, (r) => {
            emit(rollbackEvent(name, r));
          });
          await session.close();
          await transport.close();
          if (!ok) allOk = false;
          if (!opts.check) {
            hj.rolledBack = true;
            hj.status = 'rolled-back';
          }
        } catch (err) {
          allOk = false;
          emit(rollbackEvent(name, { step: 'connect', ok: false, message: errorMessage(err) }));
        }
      }),
    ),
  );
  if (!opts.check) await saveJournal(journal, opts.redact);
  return allOk ? 0 : 2;
}
