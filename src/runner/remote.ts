import { TaskFailure, UnreachableError } from '../core/errors.ts';
import { shq } from '../core/shell.ts';
import { sha256 } from '../core/probe-script.ts';
import type { RemoteShell, Step } from '../core/task.ts';
import type { ExecResult, Transport } from '../transport/types.ts';

/** Where a run keeps, on each host, the files it replaced: root-only, never copied to the controller. */
export const BACKUP_ROOT = '/var/lib/fleetbook/backups';

/** Undo of a `write` step, made by the runner: restore the saved bytes and attributes, or remove the new file. */
export interface RestoreStep {
  readonly op: 'restore';
  readonly path: string;
  readonly backup: string | null;
  /** sha256 of what the run wrote: a later undo leaves the file alone if someone changed it since. */
  readonly written: string;
}
export type UndoStep = Step | RestoreStep;

function tail(text: string, lines = 12): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * A host's shell: every command goes through /bin/sh (POSIX, whatever the login shell is), as root
 * via `sudo -n` when the inventory says `become`, in the C locale so output parses the same everywhere.
 */
export class Remote implements RemoteShell {
  roundTrips = 0;
  constructor(
    private readonly transport: Transport,
    private readonly become: boolean,
  ) {}

  async exec(script: string, opts: { stdin?: string | Buffer } = {}): Promise<ExecResult> {
    const body = `LC_ALL=C; export LC_ALL\n${script}`;
    return this.send(
      this.become ? `sudo -n -- /bin/sh -c ${shq(body)}` : `/bin/sh -c ${shq(body)}`,
      opts,
    );
  }

  /**
   * Run a script sent on stdin rather than in the command line: nothing of it (paths, expected
   * hashes) shows in the host's process list, and its size has no argument-length limit. The
   * script is one brace group, parsed whole before it runs, so no command in it can read the rest
   * of the script as its input.
   */
  async execScript(script: string): Promise<ExecResult> {
    return this.send(this.become ? 'sudo -n -- /bin/sh -s' : '/bin/sh -s', {
      stdin: `LC_ALL=C; export LC_ALL\n{\n${script}\n} </dev/null\n`,
    });
  }

  private async send(command: string, opts: { stdin?: string | Buffer }): Promise<ExecResult> {
    this.roundTrips++;
    const res = await this.transport.exec(command, opts);
    if (
      this.become &&
      res.code === 1 &&
      /^sudo: (a password is required|a terminal is required)/m.test(res.stderr)
    ) {
      throw new TaskFailure(
        'become failed: sudo needs a password on this host (fleetbook runs `sudo -n`; allow NOPASSWD for the connecting user)',
        res.stderr.trim(),
      );
    }
    return res;
  }

  /** Run one step; returns the undo the runner must record for it (only `write` makes one itself). */
  async runStep(step: UndoStep, backupDir: string, backupId: string): Promise<RestoreStep | null> {
    switch (step.op) {
      case 'run': {
        const res = await this.exec(
          step.script,
          step.stdin !== undefined ? { stdin: step.stdin } : {},
        );
        if (res.code !== 0)
          throw new TaskFailure(
            `${step.describe}: failed with exit code ${res.code}`,
            tail(`${res.stderr}${res.stdout}`),
          );
        return null;
      }
      case 'write':
        return this.write(step, backupDir, backupId);
      case 'restore':
        await this.restore(step);
        return null;
    }
  }

  private async write(
    step: Extract<Step, { op: 'write' }>,
    backupDir: string,
    backupId: string,
  ): Promise<RestoreStep> {
    const backup = `${backupDir}/${backupId}`;
    const validate =
      step.validate === undefined
        ? ''
        : `if ! ( ${step.validate.replace(/%s/g, '"$tmp"')} ) >"$tmp.out" 2>&1; then cat "$tmp.out" >&2; rm -f "$tmp.out"; echo "@@validate-failed" >&2; exit 3; fi; rm -f "$tmp.out"\n`;
    // Temp file in the same directory, attributes set, validated, then renamed: a killed run never
    // leaves a half-written file, and a failed validation leaves the live file untouched.
    const script =
      `set -e\np=${shq(step.path)}\nd=$(dirname -- "$p")\n` +
      `[ -d "$d" ] || { echo "directory $d does not exist" >&2; exit 2; }\n` +
      `if [ -e "$p" ] || [ -L "$p" ]; then mkdir -p -m 0700 ${shq(backupDir)}; chmod 0700 ${shq(BACKUP_ROOT)} ${shq(backupDir)}; cp -a -- "$p" ${shq(backup)}; echo @@backup; fi\n` +
      `tmp=$(mktemp "$d/.fleetbook.XXXXXX")\ntrap 'rm -f "$tmp"' EXIT\n` +
      `cat > "$tmp"\nchown ${shq(`${step.owner}:${step.group}`)} "$tmp"\nchmod ${step.mode} "$tmp"\n` +
      validate +
      `mv -f -- "$tmp" "$p"\ntrap - EXIT\n`;
    const res = await this.exec(script, { stdin: step.content });
    const undo: RestoreStep = {
      op: 'restore',
      path: step.path,
      backup: res.stdout.includes('@@backup') ? backup : null,
      written: sha256(step.content),
    };
    if (res.code !== 0) {
      if (res.stderr.includes('@@validate-failed')) {
        throw new TaskFailure(
          `validate command failed for ${step.path}; the live file was not changed`,
          tail(res.stderr.replace('@@validate-failed', '')),
        );
      }
      throw new TaskFailure(
        `writing ${step.path} failed with exit code ${res.code}`,
        tail(res.stderr),
      );
    }
    return undo;
  }

  /** The sha256 of a file now on the host, or null if it is not a regular file. */
  async currentSha256(path: string): Promise<string | null> {
    const p = shq(path);
    const res = await this.exec(
      `if [ -f ${p} ] && [ ! -L ${p} ]; then sha256sum < ${p} | cut -c1-64; fi`,
    );
    const out = res.stdout.trim();
    return out === '' ? null : out;
  }

  private async restore(step: RestoreStep): Promise<void> {
    const p = shq(step.path);
    const script =
      step.backup === null
        ? `rm -f -- ${p}`
        : `set -e\nd=$(dirname -- ${p})\ntmp=$(mktemp "$d/.fleetbook.XXXXXX")\ncp -a -- ${shq(step.backup)} "$tmp"\nmv -f -- "$tmp" ${p}\n`;
    const res = await this.exec(script);
    if (res.code !== 0) throw new TaskFailure(`restoring ${step.path} failed`, tail(res.stderr));
  }
}

export function describeUndo(step: UndoStep): string {
  switch (step.op) {
    case 'run':
      return step.describe;
    case 'write':
      return `write ${step.path}`;
    case 'restore':
      return step.backup === null ? `remove ${step.path}` : `restore ${step.path}`;
  }
}

export { UnreachableError };
