import type { DiffPart } from '../core/task.ts';

export type Outcome =
  | 'ok'
  | 'changed'
  | 'would-change'
  | 'unknown'
  | 'failed'
  | 'skipped'
  | 'unreachable'
  | 'rolled-back';

/** The end of what one shell step printed; long output keeps its last lines. */
export interface StepOutput {
  readonly step: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** A step's output as one text to show: stdout, then stderr, without trailing blank lines. */
export function printedText(o: StepOutput): string {
  return [o.stdout, o.stderr]
    .map((t) => t.trimEnd())
    .filter((t) => t !== '')
    .join('\n');
}

export interface TaskEndEvent {
  readonly type: 'task-end';
  readonly host: string;
  readonly index: number;
  readonly task: string;
  readonly taskType: string;
  readonly handler: boolean;
  readonly outcome: Outcome;
  /** One line per change: "create directory /var/x". */
  readonly changes: readonly string[];
  readonly diff: readonly DiffPart[];
  readonly message?: string;
  readonly details?: string;
  /** What the task did (or, in check mode, would do) that cannot be undone: a test message sent. */
  readonly sideEffects?: readonly string[];
  /** What the task's shell steps printed (a `command`'s output), secrets masked like all output. */
  readonly output?: readonly StepOutput[];
  readonly durationMs: number;
  /** Milliseconds spent reading the host (probe), planning, and acting plus verifying. */
  readonly timing: { readonly probeMs: number; readonly planMs: number; readonly applyMs: number };
}

export interface HostRecap {
  readonly host: string;
  readonly ok: number;
  readonly changed: number;
  readonly unknown: number;
  readonly failed: number;
  readonly skipped: number;
  readonly unreachable: boolean;
  readonly rolledBack: boolean;
  /** Remote commands this host's run needed (probes, steps, verify actions). */
  readonly roundTrips: number;
  /** Time to open the SSH connection. */
  readonly connectMs: number;
  readonly durationMs: number;
}

export type RunEvent =
  | {
      readonly type: 'run-start';
      readonly runId: string;
      readonly playbook: string;
      readonly inventory: string;
      readonly environment: string;
      readonly check: boolean;
      readonly hosts: readonly string[];
    }
  | {
      readonly type: 'task-start';
      readonly host: string;
      readonly index: number;
      readonly task: string;
      readonly handler: boolean;
      /** ISO 8601, when the task started on this host. */
      readonly time: string;
    }
  /** Something the user should know that does not stop the run (a --tags that matches nothing). */
  | { readonly type: 'warning'; readonly message: string }
  | TaskEndEvent
  | {
      readonly type: 'rollback';
      readonly host: string;
      readonly step: string;
      readonly ok: boolean;
      /** Left alone on purpose: changed since the run, or a step whose onlyIf check said no. */
      readonly skipped?: boolean;
      readonly message?: string;
    }
  | { readonly type: 'host-end'; readonly recap: HostRecap }
  | {
      readonly type: 'run-end';
      readonly runId: string;
      readonly recap: readonly HostRecap[];
      /** Hosts a rollout never started, because it stopped early. */
      readonly notStarted: readonly string[];
      /** Why the rollout stopped early, if it did. */
      readonly stopped?: string;
      readonly durationMs: number;
      readonly exitCode: number;
    };

export type Emit = (event: RunEvent) => void;

/** The event for one step of a host's rollback (or for why the host could not be rolled back). */
export function rollbackEvent(
  host: string,
  r: {
    readonly step: string;
    readonly ok: boolean;
    readonly skipped?: boolean | undefined;
    readonly message?: string | undefined;
  },
): RunEvent {
  return {
    type: 'rollback',
    host,
    step: r.step,
    ok: r.ok,
    ...(r.skipped === true ? { skipped: true } : {}),
    ...(r.message !== undefined ? { message: r.message } : {}),
  };
}
