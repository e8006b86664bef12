import { controllerUser } from '../core/controller-user.ts';
import { DEFAULT_CONNECT, type ConnectSettings } from '../transport/connect.ts';

/** The defaults of the run-wide limits. */
export const RUN_DEFAULTS = {
  keepBackups: 10,
  taskTimeoutSeconds: 3600,
  lockWaitSeconds: 60,
} as const;

/** Connection settings of a run, from its options. */
export function connectSettings(o: {
  readonly acceptNewHostKeys: boolean;
  readonly connectTimeoutSeconds?: number | undefined;
  readonly aliveTimeoutSeconds?: number | undefined;
}): ConnectSettings {
  return {
    acceptNewHostKeys: o.acceptNewHostKeys,
    connectTimeoutSeconds: o.connectTimeoutSeconds ?? DEFAULT_CONNECT.connectTimeoutSeconds,
    aliveTimeoutSeconds: o.aliveTimeoutSeconds ?? DEFAULT_CONNECT.aliveTimeoutSeconds,
  };
}

/** Who a run is, as another run that finds a host locked is told. */
export function runWho(runId: string): string {
  return `${controllerUser()} (run ${runId}, pid ${process.pid})`;
}
