import { TaskFailure } from '../core/errors.ts';
import { sha256 } from '../core/probe-script.ts';
import { scriptText, type Script } from '../core/shell.ts';
import type { RemoteShell, Step } from '../core/task.ts';
import type { ExecResult, HostSession } from './session.ts';
import {
  MARK,
  pruneScript,
  removeScript,
  restoreScript,
  validateScript,
  writeScript,
  type RestoreResult,
} from './host-scripts.ts';

/**
 * Undo of a `write` step, made by the runner: put the saved file back, or remove the new one.
 * `backup` is the backup's id under the host's backups directory (RUN_ID/ID); journals written
 * before ids were relative hold an absolute path, or null for a file that did not exist.
 */
export interface RestoreStep {
  readonly op: 'restore';
  readonly path: string;
  readonly backup: string | null;
  /** sha256 of what the run wrote: a later undo leaves the file alone if someone changed it since. */
  readonly written: string;
}

/** A run step as the journal keeps it: its script as text. */
export type RecordedRunStep = Omit<
  Extract<Step, { op: 'run' }>,
  'script' | 'onlyIf' | 'removes'
> & {
  readonly script: string;
  readonly onlyIf?: string;
  readonly removes?: string;
};
/** A `remove` step in a change's undo: what it takes away is kept under `backup` (RUN_ID/ID). */
export interface RemoveRecord {
  readonly op: 'remove';
  readonly path: string;
  readonly backup: string;
}
export type UndoStep = RecordedRunStep | RestoreStep | RemoveRecord;

function tail(text: string, lines = 12): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * A host's shell for one run: every script goes through the host session (session-script.ts), a
 * /bin/sh run once per host (as root via `sudo -n` when the inventory says become), in the C
 * locale so output parses the same everywhere. Scripts travel on stdin, never in the process list.
 */
export class Remote implements RemoteShell {
  roundTrips = 0;
  /** When the current task must be done (ms since the epoch): a script still running then is killed. */
  deadline: { readonly at: number; readonly what: string } | undefined;

  /**
   * `become`: the session runs through `sudo -n`. `asRoot`: whether scripts run as root (by
   * become, or by logging in as root).
   */
  constructor(
    private readonly session: HostSession,
    readonly become: boolean,
    readonly asRoot: boolean = true,
  ) {}

  async exec(script: Script | string, opts: { stdin?: string | Buffer } = {}): Promise<ExecResult> {
    const text = scriptText(script);
    if (text.includes('\0')) throw new TaskFailure('a script may not contain NUL bytes');
    const stdin =
      opts.stdin === undefined
        ? undefined
        : typeof opts.stdin === 'string'
          ? Buffer.from(opts.stdin, 'utf8')
          : opts.stdin;
    const deadline = this.deadline;
    if (deadline !== undefined && Date.now() >= deadline.at) throw timedOut(deadline.what);
    this.roundTrips++;
    const res = await this.session.run(text, stdin, deadline?.at);
    if (res.killed === true && deadline !== undefined) throw timedOut(deadline.what, res);
    return res;
  }

  /** A hint for a step that failed on a permission error while not running as root. */
  private rootHint(stderr: string): string {
    return !this.asRoot && /permission denied|operation not permitted/i.test(stderr)
      ? ' (permission denied: this needs root; set `become: true` in the inventory, or connect as root)'
      : '';
  }

  /** Run a `run` step and resolve with what it printed; throws TaskFailure naming it when it exits non-zero. */
  async run(
    step: RecordedRunStep | Extract<Step, { op: 'run' }>,
  ): Promise<{ stdout: string; stderr: string }> {
    const res = await this.exec(step.script, step.stdin !== undefined ? { stdin: step.stdin } : {});
    if (res.code !== 0)
      throw new TaskFailure(
        `${step.describe}: failed with exit code ${res.code}${this.rootHint(res.stderr)}`,
        tail(`${res.stderr}${res.stdout}`),
      );
    return { stdout: res.stdout, stderr: res.stderr };
  }

  /** Write a file atomically; `backup` is where the old one is kept (see RestoreStep). */
  async write(step: Extract<Step, { op: 'write' }>, backup: string): Promise<void> {
    const res = await this.exec(
      writeScript(step, step.content.length, sha256(step.content), backup),
      {
        stdin: step.content,
      },
    );
    if (res.code === 0) return;
    if (res.stderr.includes(MARK.validateFailed)) {
      throw new TaskFailure(
        `validate command failed for ${step.path}; the live file was not changed`,
        tail(res.stderr.replace(MARK.validateFailed, '')),
      );
    }
    if (res.stderr.includes(MARK.torn)) {
      throw new TaskFailure(
        `writing ${step.path}: the content did not arrive whole (${tail(res.stderr, 1).replace(MARK.torn, '').trim()}); the live file was not changed`,
      );
    }
    throw new TaskFailure(
      `writing ${step.path} failed with exit code ${res.code}${this.rootHint(res.stderr)}`,
      tail(res.stderr),
    );
  }

  /**
   * Check mode: run a write's validate command on its new content, changing nothing (see
   * validateScript). Returns what the command said when it rejected the content.
   */
  async validate(step: Extract<Step, { op: 'write' }>): Promise<string | undefined> {
    const res = await this.exec(validateScript(step, step.content.length, sha256(step.content)), {
      stdin: step.content,
    });
    if (res.code === 0) return undefined;
    if (res.stderr.includes(MARK.validateFailed))
      return tail(res.stderr.replace(MARK.validateFailed, '')).trim() || '(no output)';
    throw new TaskFailure(
      `validating ${step.path} in check mode failed with exit code ${res.code}${this.rootHint(res.stderr)}`,
      tail(res.stderr),
    );
  }

  /** Undo a write (see restoreScript); with `check`, only says what it would do. */
  async restore(step: RestoreStep, check: boolean): Promise<RestoreResult> {
    const res = await this.exec(restoreScript(step.path, step.backup, step.written, check));
    const word = res.stdout.trim().split('\n').pop() ?? '';
    if (
      res.code !== 0 ||
      !['restored', 'removed', 'unchanged', 'left-alone', 'no-backup'].includes(word)
    )
      throw new TaskFailure(`restoring ${step.path} failed`, tail(`${res.stderr}${res.stdout}`));
    return word as RestoreResult;
  }

  /** Move a file or tree into the backups (see removeScript); false when it was not there. */
  async remove(path: string, backup: string): Promise<boolean> {
    const res = await this.exec(removeScript(path, backup));
    const word = res.stdout.trim();
    if (res.code !== 0 || (word !== 'kept' && word !== 'absent'))
      throw new TaskFailure(
        `moving ${path} to the run's backups failed${this.rootHint(res.stderr)}`,
        tail(`${res.stderr}${res.stdout}`),
      );
    return word === 'kept';
  }

  /** Remove backups of all but the newest `keep` runs; returns the run ids removed. */
  async pruneBackups(keep: number): Promise<string[]> {
    const res = await this.exec(pruneScript(keep));
    return res.code === 0 ? res.stdout.split('\n').filter((l) => /^[\w-]+$/.test(l)) : [];
  }
}

function timedOut(what: string, res?: ExecResult): TaskFailure {
  return new TaskFailure(
    `timed out: ${what}${res !== undefined ? '; the command still running was killed' : ''}`,
    res === undefined ? undefined : tail(`${res.stderr}${res.stdout}`),
  );
}

export function describeUndo(step: UndoStep): string {
  if (step.op === 'run') return step.describe;
  return step.op === 'remove' ? `keep ${step.path} in the run's backups` : `restore ${step.path}`;
}
