import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { UnreachableError } from '../core/errors.ts';
import { fingerprint, knownHostsLine, parseKnownHosts, verifyHostKey } from './known-hosts.ts';
import type { ExecOptions, ExecResult, SshTarget, Transport } from './types.ts';

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Open the one SSH connection a host gets for the whole run. Host keys are always verified. */
export async function connectSsh(target: SshTarget, timeoutMs = 15_000): Promise<Transport> {
  const entries = parseKnownHosts(await readOptional(target.knownHosts));
  let refusal: string | undefined;
  let newKey: Buffer | undefined;
  const ssh = new NodeSSH();
  const where = `${target.user}@${target.address}:${target.port}`;
  const agent = process.env.SSH_AUTH_SOCK;
  const auth =
    target.key !== undefined
      ? { privateKeyPath: target.key }
      : agent !== undefined
        ? { agent }
        : {};
  try {
    await ssh.connect({
      host: target.address,
      port: target.port,
      username: target.user,
      ...auth,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      // node-ssh/ssh2 accept any host key unless told otherwise (STACK.md).
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(entries, target.address, target.port, key);
        if (verdict.kind === 'known') return true;
        if (verdict.kind === 'changed') {
          refusal =
            `host key verification failed: the host key of ${target.address} has CHANGED ` +
            `(now ${fingerprint(key)}; ${target.knownHosts} line ${verdict.line} has another). ` +
            `It may be a different machine or an attack; if the change is expected, remove that line.`;
          return false;
        }
        if (!target.acceptNewHostKeys) {
          refusal =
            `host key verification failed: ${target.address} is not in ${target.knownHosts} ` +
            `(its key is ${fingerprint(key)}). Add it with ssh-keyscan after checking the fingerprint, ` +
            `or set acceptNewHostKeys: true in the inventory (or pass --accept-new-host-keys).`;
          return false;
        }
        newKey = key;
        return true;
      },
    });
  } catch (err) {
    ssh.dispose();
    const reason = refusal ?? (err instanceof Error ? err.message : String(err));
    throw new UnreachableError(`cannot connect to ${where}: ${reason}`);
  }
  if (newKey !== undefined) {
    await mkdir(dirname(target.knownHosts), { recursive: true });
    await appendFile(target.knownHosts, knownHostsLine(target.address, target.port, newKey), {
      mode: 0o600,
    });
  }
  let lost: string | undefined;
  // node-ssh drops its error listener after connecting; without ours a reset would crash the process.
  ssh.connection?.on('error', (err: Error) => {
    lost = err.message;
  });
  ssh.connection?.on('close', () => {
    lost ??= 'connection closed';
  });
  // A function, not the variable: the listeners above set it while an exec is awaited.
  const lostReason = (): string | undefined => lost;
  return {
    async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
      const gone = lostReason();
      if (gone !== undefined) throw new UnreachableError(`connection to ${where} lost: ${gone}`);
      try {
        const res = await ssh.execCommand(command, {
          noTrim: true,
          ...(opts.stdin !== undefined
            ? { stdin: typeof opts.stdin === 'string' ? opts.stdin : Readable.from([opts.stdin]) }
            : {}),
        });
        if (res.code === null) {
          const reason = lostReason();
          if (reason !== undefined)
            throw new UnreachableError(`connection to ${where} lost: ${reason}`);
          return {
            code: 255,
            stdout: res.stdout,
            stderr: `${res.stderr}(the remote command ended without an exit status)`,
          };
        }
        return { code: res.code, stdout: res.stdout, stderr: res.stderr };
      } catch (err) {
        if (err instanceof UnreachableError) throw err;
        throw new UnreachableError(
          `connection to ${where} lost: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    },
    close() {
      ssh.dispose();
      return Promise.resolve();
    },
  };
}
