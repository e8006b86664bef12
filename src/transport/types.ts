export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly stdin?: string | Buffer;
}

/** One connection to one host. Commands are strings for the remote POSIX shell; quoting is the caller's. */
export interface Transport {
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export interface SshTarget {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly key: string | undefined;
  readonly knownHosts: string;
  readonly acceptNewHostKeys: boolean;
}
