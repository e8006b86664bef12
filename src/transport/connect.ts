import type { ResolvedHost } from '../inventory/load.ts';
import { connectLocal } from './local.ts';
import { connectSsh } from './ssh.ts';
import type { Transport } from './types.ts';

/** How to open the one connection a host gets: SSH, or the controller itself for `connection: local`. */
export function connector(h: ResolvedHost, acceptNewHostKeys: boolean): () => Promise<Transport> {
  if (h.connection === 'local') return () => Promise.resolve(connectLocal());
  return () =>
    connectSsh({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      key: h.key,
      knownHosts: h.knownHosts,
      acceptNewHostKeys: acceptNewHostKeys || h.acceptNewHostKeys,
    });
}
