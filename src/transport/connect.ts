import type { ResolvedHost } from '../inventory/load.ts';
import { connectLocal } from './local.ts';
import { connectSsh } from './ssh.ts';
import type { Transport } from './types.ts';

/** How connections are opened and watched, for every host of a run. */
export interface ConnectSettings {
  readonly acceptNewHostKeys: boolean;
  /** Give up connecting to a host after this long. */
  readonly connectTimeoutSeconds: number;
  /** Declare a connection lost after this long without an answer (keepalives). */
  readonly aliveTimeoutSeconds: number;
}

export const DEFAULT_CONNECT: ConnectSettings = {
  acceptNewHostKeys: false,
  connectTimeoutSeconds: 15,
  aliveTimeoutSeconds: 30,
};

/** How to open the one connection a host gets: SSH, or the controller itself for `connection: local`. */
export function connector(h: ResolvedHost, settings: ConnectSettings): () => Promise<Transport> {
  if (h.connection === 'local') return () => Promise.resolve(connectLocal());
  return () =>
    connectSsh({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      key: h.key,
      jumps: h.jumps,
      knownHosts: h.knownHosts,
      acceptNewHostKeys: settings.acceptNewHostKeys || h.acceptNewHostKeys,
      connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
      aliveTimeoutMs: settings.aliveTimeoutSeconds * 1000,
    });
}
