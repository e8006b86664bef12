import pLimit from 'p-limit';
import { FACTS_SCRIPT, parseHostFacts, type HostFacts } from '../core/host-facts.ts';
import { TaskFailure } from '../core/errors.ts';
import type { ResolvedHost } from '../inventory/load.ts';
import { closeHost, openHost, type LockSettings, type OpenHost } from './open-remote.ts';
import { sessionAs } from './prepare.ts';
import type { LockMode } from './session.ts';
import type { Transport } from '../transport/types.ts';

/** A host whose facts were read, its session left open for its tasks; or why it could not be. */
export type Gathered =
  | { readonly ok: true; readonly facts: HostFacts; readonly open: OpenHost }
  | { readonly ok: false; readonly error: Error };

/**
 * Read every host's facts before any task is made from them: connect (`forks` at a time), start
 * the host's session (with the run's lock) and run the facts script, the session's first round
 * trip. The sessions stay open for the hosts' runs, so the host is connected to once.
 */
export async function gatherFacts(
  hosts: readonly ResolvedHost[],
  connect: (h: ResolvedHost) => () => Promise<Transport>,
  how: {
    readonly forks: number;
    readonly lock: LockMode;
    readonly lockSettings: LockSettings;
    readonly timeoutSeconds: number;
  },
): Promise<Map<string, Gathered>> {
  const limit = pLimit(Math.max(1, how.forks));
  const out = new Map<string, Gathered>();
  await Promise.all(
    hosts.map((h) =>
      limit(async () => {
        try {
          const open = await openHost(connect(h), h.name, sessionAs(h), how.lock, how.lockSettings);
          try {
            open.remote.deadline = {
              at: Date.now() + how.timeoutSeconds * 1000,
              what: 'reading the host facts',
            };
            const res = await open.remote.exec(FACTS_SCRIPT);
            open.remote.deadline = undefined;
            if (res.code !== 0)
              throw new TaskFailure(`reading the host facts failed (exit ${res.code})`, res.stderr);
            out.set(h.name, { ok: true, facts: parseHostFacts(res.stdout), open });
          } catch (err) {
            await closeHost(open);
            throw err;
          }
        } catch (err) {
          out.set(h.name, {
            ok: false,
            error: err instanceof Error ? err : new Error(String(err)),
          });
        }
      }),
    ),
  );
  return out;
}

/** Close the sessions no host run took over (a run that stopped early, or failed to prepare). */
export async function closeGathered(gathered: Iterable<Gathered>): Promise<void> {
  const open = [...gathered].flatMap((g) => (g.ok ? [g.open] : []));
  await Promise.all(open.map(closeHost));
}
