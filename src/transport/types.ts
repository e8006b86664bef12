/**
 * One command running on a host, with its streams: what the host session (src/runner/session.ts)
 * talks to. Its standard input stays open until `end()`, so the command can tell a controller
 * that went away (stdin ends) from one that is only quiet.
 */
export interface Channel {
  write(data: Buffer): void;
  /** Close the command's standard input. */
  end(): void;
  onStdout(listener: (chunk: Buffer) => void): void;
  onStderr(listener: (chunk: Buffer) => void): void;
  /** Resolves when the command exited and its streams closed; `reason` when the connection was lost. */
  readonly closed: Promise<{ readonly code: number | null; readonly reason?: string }>;
  /** Tear the command down now (as if the connection dropped). */
  destroy(): void;
}

/** One connection to one host. Commands are strings for the remote POSIX shell; quoting is the caller's. */
export interface Transport {
  open(command: string): Promise<Channel>;
  close(): Promise<void>;
}

/** One SSH hop: a host to log in to, on the way to a target or the target itself. */
export interface SshHop {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Private key file; without one, the SSH agent. */
  readonly key: string | undefined;
}

/** `user@address:port`, as errors and `--list-hosts` show a hop. */
export function hopName(h: SshHop): string {
  return `${h.user}@${h.address}:${String(h.port)}`;
}

export interface SshTarget extends SshHop {
  readonly name: string;
  /** Jump hosts (ProxyJump), first hop first. */
  readonly jumps: readonly SshHop[];
  readonly knownHosts: string;
  readonly acceptNewHostKeys: boolean;
  /** Give up connecting after this long. */
  readonly connectTimeoutMs: number;
  /** A connection silent this long (no answer to keepalives) is declared lost. */
  readonly aliveTimeoutMs: number;
}
