import { TaskFailure, UnreachableError } from '../core/errors.ts';
import { shq } from '../core/shell.ts';
import type { Channel, Transport } from '../transport/types.ts';
import { SESSION_SCRIPT } from './session-script.ts';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The script was stopped because its deadline passed. */
  readonly killed?: boolean;
}

/** How a session holds the host lock: real runs alone, check runs beside each other, or not at all. */
export type LockMode = 'exclusive' | 'shared' | 'none';

export interface SessionOptions {
  /** Run as root through `sudo -n`. */
  readonly become: boolean;
  readonly lock: LockMode;
  /** How long to wait for another run's lock before refusing. */
  readonly lockWaitSeconds: number;
  /** Who holds the lock, as a run that finds the host locked is told. */
  readonly who: string;
}

/** The host is locked by another run, or the session could not start. Fails the host, not the run. */
export class SessionError extends TaskFailure {
  override name = 'SessionError';
}

interface Pending {
  resolve(r: ExecResult): void;
  reject(e: Error): void;
  killed: boolean;
}

const READY = '@@fbs ready\n';
const BUSY = '@@fbs busy ';
const DONE = /^@@fbs done (\d+) (\d+) (\d+)\n$/;

/**
 * The controller side of a host session (see session-script.ts): one long-lived shell on the host
 * that runs scripts one at a time. One command and one sudo per host and run, instead of one per
 * script; the host lock is held for as long as the session lives.
 */
export class HostSession {
  /** Output not parsed yet, as chunks: one Buffer.concat per message, not one per chunk (a 27 MB probe). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stderr = '';
  private state: 'starting' | 'ready' | 'gone' = 'starting';
  private goneError: Error | undefined;
  private current: Pending | undefined;
  /** The `done` line of the result being read, once it arrived. */
  private header: { code: number; out: number; err: number } | undefined;
  /** The previous request's completion: requests are sent one at a time (see the kill line). */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly readyWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];

  private constructor(
    private readonly channel: Channel,
    private readonly where: string,
  ) {
    channel.onStdout((chunk) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.drain();
    });
    channel.onStderr((chunk) => {
      // The session's own complaints (sudo, a full disk); scripts' stderr comes framed on stdout.
      if (this.stderr.length < 8192) this.stderr += chunk.toString('utf8');
    });
    void channel.closed.then(({ code, reason }) => {
      this.fail(this.closedError(code, reason));
    });
  }

  /** Start the session on an open connection. Scripts may be sent at once; they run once it is ready. */
  static async open(
    transport: Transport,
    where: string,
    opts: SessionOptions,
  ): Promise<HostSession> {
    const sh = `/bin/sh -c ${shq(SESSION_SCRIPT)} fleetbook-session ${shq(opts.lock)} ${String(Math.max(0, Math.round(opts.lockWaitSeconds)))} ${shq(opts.who)}`;
    const channel = await transport.open(opts.become ? `sudo -n -- ${sh}` : sh);
    return new HostSession(channel, where);
  }

  private closedError(code: number | null, reason: string | undefined): Error {
    if (this.goneError !== undefined) return this.goneError;
    if (reason !== undefined)
      return new UnreachableError(`connection to ${this.where} lost: ${reason}`);
    const said = this.stderr.trim();
    if (/^sudo: (a password is required|a terminal is required)/m.test(said))
      return new SessionError(
        'become failed: sudo needs a password on this host (fleetbook runs `sudo -n`; allow NOPASSWD for the connecting user)',
        said,
      );
    return new SessionError(
      `the fleetbook session on ${this.where} ended${code !== null ? ` (exit ${code})` : ''}`,
      said || undefined,
    );
  }

  private fail(err: Error): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.goneError = err;
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    this.current?.reject(err);
    this.current = undefined;
  }

  /** The first `n` buffered bytes (joined once), or null when fewer have arrived. */
  private peek(n: number): Buffer | null {
    if (this.buffered < n) return null;
    if (this.chunks.length > 1 && (this.chunks[0]?.length ?? 0) < n)
      this.chunks = [Buffer.concat(this.chunks)];
    return (this.chunks[0] ?? Buffer.alloc(0)).subarray(0, n);
  }

  private take(n: number): Buffer {
    const head = this.peek(n) ?? Buffer.alloc(0);
    const first = this.chunks[0] ?? Buffer.alloc(0);
    this.chunks[0] = first.subarray(n);
    if (this.chunks[0].length === 0) this.chunks.shift();
    this.buffered -= n;
    return head;
  }

  /** A whole line at the start of the output, or null. */
  private line(): string | null {
    const head = this.peek(Math.min(this.buffered, 256));
    if (head === null) return null;
    const nl = head.indexOf(10);
    return nl < 0 ? null : this.take(nl + 1).toString('utf8');
  }

  private drain(): void {
    for (;;) {
      if (this.state === 'starting') {
        const line = this.line();
        if (line === null) return;
        if (line === READY) {
          this.state = 'ready';
          for (const w of this.readyWaiters.splice(0)) w.resolve();
        } else if (line.startsWith(BUSY)) {
          this.fail(
            new SessionError(
              `the host is locked by another fleetbook run: ${line.slice(BUSY.length).trim()}`,
            ),
          );
        }
        continue;
      }
      if (this.state !== 'ready' || this.current === undefined) return;
      if (this.header === undefined) {
        const line = this.line();
        if (line === null) return;
        const m = DONE.exec(line);
        if (m === null) continue;
        this.header = { code: Number(m[1]), out: Number(m[2]), err: Number(m[3]) };
      }
      const { code, out, err } = this.header;
      if (this.buffered < out + err) return;
      this.header = undefined;
      const stdout = this.take(out).toString('utf8');
      const stderr = this.take(err).toString('utf8');
      const done = this.current;
      this.current = undefined;
      done.resolve({ code, stdout, stderr, ...(done.killed ? { killed: true } : {}) });
    }
  }

  private whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'gone')
      return Promise.reject(this.goneError ?? new SessionError('session gone'));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /**
   * Run one script (its text) with `stdin` as its standard input. With a deadline (ms since the
   * epoch), a script still running then is killed, and the result says `killed`.
   */
  run(script: string, stdin: Buffer = Buffer.alloc(0), deadline?: number): Promise<ExecResult> {
    const mine = this.tail.then(() => this.send(script, stdin, deadline));
    this.tail = mine.catch(() => undefined);
    return mine;
  }

  private async send(
    script: string,
    stdin: Buffer,
    deadline: number | undefined,
  ): Promise<ExecResult> {
    if (this.state === 'gone') throw this.goneError ?? new SessionError('session gone');
    const body = Buffer.from(script, 'utf8');
    const result = new Promise<ExecResult>((resolve, reject) => {
      this.current = { resolve, reject, killed: false };
    });
    // Sent before the session says ready: it waits in the pipe, so opening costs no round trip.
    this.channel.write(
      Buffer.concat([Buffer.from(`${body.length} ${stdin.length}\n`), body, stdin]),
    );
    let timer: NodeJS.Timeout | undefined;
    if (deadline !== undefined) {
      const current = this.current;
      timer = setTimeout(
        () => {
          if (this.current !== current || current === undefined) return;
          current.killed = true;
          this.channel.write(Buffer.from('kill\n'));
        },
        Math.max(0, deadline - Date.now()),
      );
    }
    try {
      // Both awaited together: a session that never gets ready rejects both, and neither is left unhandled.
      const [, r] = await Promise.all([this.whenReady(), result]);
      return r;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** End the session: the host releases its lock and removes the session's files. */
  async close(): Promise<void> {
    this.channel.end();
    const closed = this.channel.closed.then(() => undefined);
    const timer = setTimeout(() => {
      this.channel.destroy();
    }, 5000);
    await closed;
    clearTimeout(timer);
  }
}
