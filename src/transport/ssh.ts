import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NodeSSH } from 'node-ssh';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { UnreachableError } from '../core/errors.ts';
import { fingerprint, knownHostsLine, parseKnownHosts, verifyHostKey } from './known-hosts.ts';
import { hopName, type Channel, type SshHop, type SshTarget, type Transport } from './types.ts';

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Keepalives every few seconds; this many unanswered in a row mean the connection is lost. */
const KEEPALIVE_COUNT = 3;

/**
 * Open the one SSH connection a host gets for the whole run, through its jump hosts if it has
 * any (each hop a forwarded channel of the one before, as `ssh -J` does). Every hop's host key is
 * verified against the same known_hosts file.
 */
export async function connectSsh(target: SshTarget): Promise<Transport> {
  const entries = parseKnownHosts(await readOptional(target.knownHosts));
  const where =
    target.jumps.length === 0
      ? hopName(target)
      : `${hopName(target)} (through ${target.jumps.map(hopName).join(', ')})`;
  const opened: NodeSSH[] = [];
  const closeAll = (): void => {
    for (const c of [...opened].reverse()) c.dispose();
  };
  let sock: Duplex | undefined;
  try {
    for (const hop of [...target.jumps, target]) {
      const ssh = await openHop(hop, sock, target, entries);
      opened.push(ssh);
      if (hop !== target) {
        // A jump host's reset closes the forwarded channel, which the target's 'close' reports;
        // this listener only keeps the reset from crashing the process (STACK.md).
        ssh.connection?.on('error', () => undefined);
        const next = target.jumps[opened.length] ?? target;
        sock = await ssh
          .forwardOut('127.0.0.1', 0, next.address, next.port)
          .catch((err: unknown) => {
            throw new Error(
              `${hopName(hop)} cannot open a channel to ${next.address}:${String(next.port)}: ${err instanceof Error ? err.message : String(err)}`,
            );
          });
      }
    }
  } catch (err) {
    closeAll();
    throw new UnreachableError(
      `cannot connect to ${where}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const ssh = opened.at(-1);
  const client = ssh?.connection ?? null;
  if (client === null) {
    closeAll();
    throw new UnreachableError(`cannot connect to ${where}: no connection`);
  }
  let lost: string | undefined;
  // node-ssh drops its error listener after connecting; without ours a reset would crash the process.
  client.on('error', (err: Error) => {
    lost = /keepalive/i.test(err.message)
      ? `no answer for ${Math.round(target.aliveTimeoutMs / 1000)} s (--alive-timeout)`
      : err.message;
  });
  client.on('close', () => {
    lost ??= 'connection closed';
  });
  return {
    open(command: string): Promise<Channel> {
      if (lost !== undefined)
        return Promise.reject(new UnreachableError(`connection to ${where} lost: ${lost}`));
      return new Promise((resolve, reject) => {
        client.exec(command, (err, stream) => {
          if (err !== undefined) {
            reject(new UnreachableError(`connection to ${where} lost: ${err.message}`));
            return;
          }
          resolve(sshChannel(stream, () => lost));
        });
      });
    },
    close() {
      closeAll();
      return Promise.resolve();
    },
  };
}

function sshChannel(stream: ClientChannel, lost: () => string | undefined): Channel {
  let code: number | null = null;
  stream.on('exit', (c: number | null) => {
    code = c;
  });
  const closed = new Promise<{ code: number | null; reason?: string }>((resolve) => {
    stream.on('close', () => {
      const reason = code === null ? lost() : undefined;
      resolve(reason === undefined ? { code } : { code, reason });
    });
  });
  // A stream error (the connection reset under it) ends in 'close' too; it must not throw.
  stream.on('error', () => undefined);
  return {
    write: (data) => {
      stream.write(data);
    },
    end: () => {
      stream.end();
    },
    onStdout: (l) => stream.on('data', l),
    onStderr: (l) => stream.stderr.on('data', l),
    closed,
    destroy: () => {
      stream.destroy();
    },
  };
}

/** Connect to one hop (directly, or over `sock`, a channel forwarded by the hop before). */
async function openHop(
  hop: SshHop,
  sock: Duplex | undefined,
  target: SshTarget,
  entries: ReturnType<typeof parseKnownHosts>,
): Promise<NodeSSH> {
  let refusal: string | undefined;
  let newKey: Buffer | undefined;
  const ssh = new NodeSSH();
  const agent = process.env.SSH_AUTH_SOCK;
  const auth =
    hop.key !== undefined ? { privateKeyPath: hop.key } : agent !== undefined ? { agent } : {};
  try {
    await ssh.connect({
      ...(sock !== undefined ? { sock } : { host: hop.address }),
      port: hop.port,
      username: hop.user,
      ...auth,
      readyTimeout: target.connectTimeoutMs,
      keepaliveInterval: Math.max(1000, Math.floor(target.aliveTimeoutMs / KEEPALIVE_COUNT)),
      keepaliveCountMax: KEEPALIVE_COUNT,
      // node-ssh/ssh2 accept any host key unless told otherwise (STACK.md).
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(entries, hop.address, hop.port, key);
        if (verdict.kind === 'known') return true;
        if (verdict.kind === 'changed' || verdict.kind === 'revoked') {
          refusal =
            verdict.kind === 'revoked'
              ? `host key verification failed: the host key of ${hop.address} (${fingerprint(key)}) is marked @revoked in ${target.knownHosts} line ${verdict.line}`
              : `host key verification failed: the host key of ${hop.address} has CHANGED ` +
                `(now ${fingerprint(key)}; ${target.knownHosts} line ${verdict.line} has another). ` +
                `It may be a different machine or an attack; if the change is expected, remove that line.`;
          return false;
        }
        if (!target.acceptNewHostKeys) {
          refusal =
            `host key verification failed: ${hop.address} is not in ${target.knownHosts} ` +
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
    const raw = err instanceof Error ? err.message : String(err);
    const reason =
      refusal ??
      (/Timed out while waiting for handshake/.test(raw)
        ? `no answer within ${Math.round(target.connectTimeoutMs / 1000)} s (--connect-timeout)`
        : raw);
    throw new Error(hop === target ? reason : `jump host ${hopName(hop)}: ${reason}`, {
      cause: err,
    });
  }
  if (newKey !== undefined) {
    await mkdir(dirname(target.knownHosts), { recursive: true });
    await appendFile(target.knownHosts, knownHostsLine(hop.address, hop.port, newKey), {
      mode: 0o600,
    });
  }
  return ssh;
}
