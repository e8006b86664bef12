import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

export interface RunOptions {
  input?: string;
  /** Kill the command (SIGKILL) after this long and fail. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean;
  /** Called with every complete line of stdout and stderr, as it arrives. */
  onLine?: (line: string) => void;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a local command without a shell (arguments are passed as they are, no quoting involved).
 * Throws an Error naming the command, its exit status and the end of its output when it fails.
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let partial = '';
    const feed = (chunk: Buffer) => {
      if (opts.onLine === undefined) return;
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line);
    };
    child.stdout.on('data', (c: Buffer) => {
      out.push(c);
      feed(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      feed(c);
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer !== undefined) clearTimeout(timer);
      reject(
        new Error(
          e.code === 'ENOENT' ? `command not found: ${cmd}` : `could not run ${cmd}: ${e.message}`,
          { cause: e },
        ),
      );
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (partial !== '' && opts.onLine !== undefined) opts.onLine(partial);
      const result: RunResult = {
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut) {
        reject(
          new Error(`${describe(cmd, args)} timed out after ${opts.timeoutMs} ms${tailOf(result)}`),
        );
      } else if (code !== 0 && opts.allowFailure !== true) {
        const how = code === null ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(new Error(`${describe(cmd, args)} ${how}${tailOf(result)}`));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

function describe(cmd: string, args: readonly string[]): string {
  const shown = [cmd, ...args].join(' ');
  return `\`${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}\``;
}

function tailOf(r: RunResult): string {
  const text = (r.stderr.trim() !== '' ? r.stderr : r.stdout).trim();
  return text === '' ? '' : `:\n${tailLines(text, 15)}`;
}

export function tailLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

/** Finds an executable on PATH (plus the sbin directories, which a non-login root shell may lack). */
export async function which(cmd: string): Promise<string | null> {
  const dirs = (process.env['PATH'] ?? '').split(':').filter((d) => d !== '');
  for (const extra of [
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    const candidate = path.join(dir, cmd);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
