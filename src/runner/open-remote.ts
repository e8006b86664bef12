import type { Transport } from '../transport/types.ts';
import { Remote } from './remote.ts';
import { HostSession, type LockMode } from './session.ts';

/** How long a run waits for another run's lock on a host, and who it is (for the other's message). */
export interface LockSettings {
  readonly waitSeconds: number;
  readonly who: string;
}

/**
 * Start a host's session on an open connection and the shell the runner uses through it. Real runs
 * hold the host alone (`exclusive`), check runs share it with other checks (`shared`).
 */
export async function openRemote(
  transport: Transport,
  where: string,
  host: { readonly become: boolean; readonly asRoot: boolean },
  lock: LockMode,
  settings: LockSettings,
): Promise<{ remote: Remote; session: HostSession }> {
  const session = await HostSession.open(transport, where, {
    become: host.become,
    lock,
    lockWaitSeconds: settings.waitSeconds,
    who: settings.who,
  });
  return { remote: new Remote(session, host.become, host.asRoot), session };
}

/** A host's connection, its session, and the shell through it: what a host's run works with. */
export interface OpenHost {
  readonly transport: Transport;
  readonly remote: Remote;
  readonly session: HostSession;
}

/** Connect to a host and start its session; a connection whose session cannot start is closed. */
export async function openHost(
  connect: () => Promise<Transport>,
  where: string,
  host: { readonly become: boolean; readonly asRoot: boolean },
  lock: LockMode,
  settings: LockSettings,
): Promise<OpenHost> {
  const transport = await connect();
  try {
    return { transport, ...(await openRemote(transport, where, host, lock, settings)) };
  } catch (err) {
    await transport.close();
    throw err;
  }
}

/** End a host's session, then its connection. */
export async function closeHost(h: OpenHost): Promise<void> {
  await h.session.close().catch(() => undefined);
  await h.transport.close();
}
