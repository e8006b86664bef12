import { randomBytes } from 'node:crypto';
import { TaskFailure, UnreachableError, errorMessage } from '../core/errors.ts';
import type { Fact, FactQuery, FileFact, ProbeSpec } from '../core/facts.ts';
import { sha256 as sha256Of } from '../core/probe-script.ts';
import { scriptText } from '../core/shell.ts';
import type { Change, HostView, Plan, ResultInput, Step, StepPrinted, Task } from '../core/task.ts';
import { planProblem } from './check-plan.ts';
import type { Emit, Outcome, StepOutput, TaskEndEvent } from './events.ts';
import type { FactCache } from './fact-cache.ts';
import { backupId } from './host-scripts.ts';
import type { HostJournal, JournalTask, UndoRecord } from './journal.ts';
import type { RecordedRunStep, Remote } from './remote.ts';
import { SessionError } from './session.ts';

export interface PreparedTask {
  readonly task: Task;
  readonly prepared: unknown;
}

/** What one task on one host needs from its host's run. */
export interface TaskContext {
  readonly view: HostView;
  readonly runId: string;
  readonly check: boolean;
  readonly remote: Remote;
  readonly cache: FactCache;
  readonly emit: Emit;
  /** The host's journal: undo records are pushed here as changes are applied. */
  readonly journal: HostJournal;
  /** Keep a finished task's record. */
  readonly recordTask: (task: JournalTask) => void;
  /** Resolves once the journal durably says what is about to change (it must survive a killed controller). */
  readonly beforeChange: (entry: ChangeEntry) => Promise<void>;
  /** Plans the task again on a fresh connection, after the connection dropped while it acted. */
  readonly recheck: (pt: PreparedTask) => Promise<string>;
  /** A task's time limit when it sets none. */
  readonly taskTimeoutSeconds: number;
}

/** What the journal must hold before a change (or one of its writes) is applied. */
export interface ChangeEntry {
  readonly task: number;
  /** The change's summary, when it starts. */
  readonly change?: string;
  readonly undo: readonly UndoRecord[];
  readonly afterUndo: readonly RecordedRunStep[];
}

/** A task's result as later tasks on its host may read it (`withResult`), or why it is not known. */
export type ResultState =
  | { readonly known: true; readonly value: unknown }
  | { readonly known: false; readonly why: string };

export interface TaskResult {
  readonly outcome: Outcome;
  /** Worked out only when a later task reads it; absent when the task failed. */
  readonly result?: ResultState;
  /**
   * Whether the task's handlers are due: it planned a change (applied or, in check mode, would
   * apply), 'maybe' when check mode cannot tell (unknown).
   */
  readonly notifies: boolean | 'maybe';
}

type RunStep = Extract<Step, { op: 'run' }>;

/** A run step as the journal keeps it. */
export function recordStep(step: RunStep): RecordedRunStep {
  return {
    op: 'run',
    describe: step.describe,
    script: scriptText(step.script),
    ...(step.stdin !== undefined ? { stdin: step.stdin } : {}),
    ...(step.onlyIf !== undefined ? { onlyIf: scriptText(step.onlyIf) } : {}),
    ...(step.removes !== undefined ? { removes: scriptText(step.removes) } : {}),
  };
}

/** A task's end as the journal keeps it. */
export function journalTask(e: TaskEndEvent): JournalTask {
  return {
    index: e.index,
    title: e.task,
    type: e.taskType,
    handler: e.handler,
    outcome: e.outcome,
    durationMs: e.durationMs,
    changes: e.changes,
    ...(e.message !== undefined ? { message: e.message } : {}),
    ...(e.sideEffects !== undefined ? { sideEffects: e.sideEffects } : {}),
    ...(e.output !== undefined ? { output: e.output } : {}),
    ...(e.diff.length > 0 ? { diff: e.diff } : {}),
    finishedAt: new Date().toISOString(),
  };
}

/** A fact that could not be read (permission denied) makes any plan from it a guess. */
function unreadable(facts: Readonly<Record<string, Fact>>): FileFact | undefined {
  return Object.values(facts).find(
    (f): f is FileFact => typeof f === 'object' && 'unreadable' in f && f.unreadable !== undefined,
  );
}

/**
 * Run one task on one host: read its facts (batched with the tasks still to come), plan, and in a
 * real run apply the changes, recording each change's undo before it runs. Check mode stops after
 * the plan and feeds the plan's effects to the later tasks (simulated state).
 */
export async function runTask(
  ctx: TaskContext,
  pt: PreparedTask,
  index: number,
  handler: boolean,
  spec: ProbeSpec,
  upcoming: readonly FactQuery[],
  wantResult = false,
): Promise<TaskResult> {
  const limit = pt.task.options.timeoutSeconds ?? ctx.taskTimeoutSeconds;
  ctx.remote.deadline = {
    at: Date.now() + limit * 1000,
    what: `the task took longer than ${limit} s (${pt.task.options.timeoutSeconds !== undefined ? 'its timeoutSeconds' : '--task-timeout'})`,
  };
  try {
    return await runTaskWithin(ctx, pt, index, handler, spec, upcoming, wantResult);
  } finally {
    ctx.remote.deadline = undefined;
  }
}

async function runTaskWithin(
  ctx: TaskContext,
  pt: PreparedTask,
  index: number,
  handler: boolean,
  spec: ProbeSpec,
  upcoming: readonly FactQuery[],
  wantResult: boolean,
): Promise<TaskResult> {
  const t0 = performance.now();
  // Where the task's time went, for --profile: reading the host, planning, acting (and verifying).
  const timing = { probeMs: 0, planMs: 0, applyMs: 0 };
  const name = ctx.view.name;
  ctx.emit({
    type: 'task-start',
    host: name,
    index,
    task: pt.task.title,
    handler,
    time: new Date().toISOString(),
  });
  const end = (
    outcome: Outcome,
    extra: Partial<
      Pick<TaskEndEvent, 'changes' | 'diff' | 'message' | 'details' | 'sideEffects' | 'output'>
    > = {},
  ): Outcome => {
    const event: TaskEndEvent = {
      type: 'task-end',
      host: name,
      index,
      task: pt.task.title,
      taskType: pt.task.type,
      handler,
      outcome,
      changes: extra.changes ?? [],
      diff: extra.diff ?? [],
      ...(extra.message !== undefined ? { message: extra.message } : {}),
      ...(extra.details !== undefined ? { details: extra.details } : {}),
      ...(extra.sideEffects !== undefined && extra.sideEffects.length > 0
        ? { sideEffects: extra.sideEffects }
        : {}),
      ...(extra.output !== undefined && extra.output.length > 0 ? { output: extra.output } : {}),
      durationMs: Math.round(performance.now() - t0),
      timing: {
        probeMs: Math.round(timing.probeMs),
        planMs: Math.round(timing.planMs),
        applyMs: Math.round(timing.applyMs),
      },
    };
    ctx.emit(event);
    ctx.recordTask(journalTask(event));
    return outcome;
  };
  const failure = (
    err: unknown,
    extra: Partial<Pick<TaskEndEvent, 'changes' | 'diff' | 'sideEffects' | 'output'>> = {},
  ): Outcome =>
    // A host locked by another run, or a session that could not start, stops the host like a lost connection.
    err instanceof UnreachableError || err instanceof SessionError
      ? end('unreachable', {
          ...extra,
          message: err.message,
          ...(err instanceof SessionError && err.details !== undefined
            ? { details: err.details }
            : {}),
        })
      : end('failed', {
          ...extra,
          message: errorMessage(err),
          ...(err instanceof TaskFailure && err.details !== undefined
            ? { details: err.details }
            : {}),
        });

  // The task's result, for a later task that reads it: from its facts after it, and its output.
  const resultOf = (got: ResultInput<Readonly<Record<string, unknown>>, unknown>): ResultState => {
    if (!wantResult) return { known: false, why: 'not asked for' };
    const value = pt.task.result(got);
    return value !== undefined
      ? { known: true, value }
      : { known: false, why: `check mode cannot know it before "${pt.task.title}" has run` };
  };
  // Check mode leaves the question open, with the reason; the task's result is unknown too.
  const unknown = (
    message: string,
    extra: Partial<Pick<TaskEndEvent, 'changes' | 'diff'>> = {},
  ): TaskResult => ({
    outcome: end('unknown', { ...extra, message }),
    notifies: 'maybe',
    result: { known: false, why: `"${pt.task.title}" is unknown in check mode (${message})` },
  });

  let plan: Plan;
  let facts: Record<string, Fact>;
  try {
    facts = await ctx.cache.get(spec, upcoming);
    const t1 = performance.now();
    timing.probeMs = t1 - t0;
    const blind = unreadable(facts);
    if (blind !== undefined) {
      const why = `cannot tell what to do: ${blind.path}: ${blind.unreadable ?? 'permission denied'}${ctx.remote.asRoot ? '' : '; this needs root: set `become: true` in the inventory, or connect as root'}`;
      return ctx.check
        ? unknown(why)
        : { outcome: end('failed', { message: why }), notifies: false };
    }
    // Facts a would-be install may change are not planned from, by any task, built-in or not.
    const doubt = ctx.check ? ctx.cache.doubt(spec) : undefined;
    if (doubt !== undefined) return unknown(doubt);
    plan = pt.task.plan(facts, pt.prepared, { host: ctx.view, notified: handler });
    timing.planMs = performance.now() - t1;
  } catch (err) {
    return { outcome: failure(err), notifies: false };
  }
  const bad = planProblem(plan);
  if (bad !== null)
    return {
      outcome: end('failed', { message: `task ${pt.task.type} returned an invalid plan: ${bad}` }),
      notifies: false,
    };
  if (plan.status === 'fail')
    return { outcome: end('failed', { message: plan.message }), notifies: false };
  if (plan.status === 'unknown') {
    // Only check mode may leave a question open; a real run must not act on a guess.
    return ctx.check
      ? unknown(plan.reason)
      : { outcome: end('failed', { message: plan.reason }), notifies: false };
  }
  const changes = plan.status === 'change' ? plan.changes : [];
  // What the change's shell steps print, as they run (kept when a later step fails too): whole,
  // for the task's result, and shortened for output and the journal.
  const printed: StepPrinted[] = [];
  const summary = {
    changes: changes.map((c) => c.summary),
    diff: changes.flatMap((c) => c.diff),
  };
  const verify = plan.verify ?? [];
  const sideEffects = verify.flatMap((v) => (v.sideEffect !== undefined ? [v.sideEffect] : []));
  const notifies = changes.length > 0;
  if (ctx.check) {
    let rejected: Awaited<ReturnType<typeof validateInCheck>>;
    try {
      rejected = await validateInCheck(ctx, changes);
    } catch (err) {
      return { outcome: failure(err, summary), notifies: false };
    }
    if (rejected?.outcome === 'unknown') return unknown(rejected.message, summary);
    if (rejected !== undefined)
      return { outcome: end('failed', { ...summary, message: rejected.message }), notifies: false };
    ctx.cache.simulate(
      changes.flatMap((c) => c.effects),
      changes.length > 0,
    );
    const notes = [
      plan.status === 'ok' ? plan.note : undefined,
      ...verify.map((v) => `would ${v.describe}`),
      ...sideEffects.map((s) => `(side effect, cannot be undone: ${s})`),
    ];
    const message = notes.filter((x) => x !== undefined && x !== '').join('; ');
    return {
      outcome: end(changes.length > 0 ? 'would-change' : 'ok', {
        ...summary,
        ...(message !== '' ? { message } : {}),
      }),
      notifies,
      result: resultOf(
        changes.length > 0
          ? { facts: undefined, prepared: pt.prepared, state: 'predicted', output: [] }
          : { facts, prepared: pt.prepared, state: 'unchanged', output: [] },
      ),
    };
  }
  try {
    const t2 = performance.now();
    for (const change of changes) await applyChange(ctx, change, index, printed);
    const steps = changes.flatMap((c) => c.steps);
    // A task that changed nothing and checks nothing leaves every fact as read: forgetting them
    // anyway made a no-change run read the host again for almost every task.
    if (steps.length === 0 && verify.length === 0) {
      // nothing happened on the host
    } else if (steps.every((st) => st.op === 'write'))
      // (A removed tree may hold any cached path: a remove forgets everything, as a run step does.)
      ctx.cache.forgetPaths(steps.map((st) => (st.op === 'write' ? st.path : '')));
    else ctx.cache.invalidate();
    // A plan's note describes what the verify actions would do; once they ran, their results say more.
    const notes: string[] =
      plan.status === 'ok' && plan.note !== undefined && verify.length === 0 ? [plan.note] : [];
    const done: string[] = [];
    for (const v of verify) {
      if (v.sideEffect !== undefined) done.push(v.sideEffect);
      const note = await v.run(ctx.remote);
      if (note !== undefined) notes.push(note);
    }
    // After a change its facts are read again (with the later tasks' facts, which are due anyway).
    const result =
      !wantResult || changes.length === 0
        ? resultOf({ facts, prepared: pt.prepared, state: 'unchanged', output: [] })
        : resultOf({
            facts: await ctx.cache.get(spec, upcoming),
            prepared: pt.prepared,
            state: 'applied',
            output: printed,
          });
    timing.applyMs = performance.now() - t2;
    return {
      outcome: end(changes.length > 0 ? 'changed' : 'ok', {
        ...summary,
        sideEffects: done,
        output: shown(printed),
        ...(notes.length > 0 ? { message: notes.join('; ') } : {}),
      }),
      notifies,
      result,
    };
  } catch (err) {
    if (err instanceof UnreachableError && changes.length > 0) {
      return {
        outcome: end('unreachable', {
          ...summary,
          message: `${err.message}; ${await ctx.recheck(pt)}`,
        }),
        notifies,
      };
    }
    return {
      outcome: failure(err, { ...summary, sideEffects, output: shown(printed) }),
      notifies,
    };
  }
}

/**
 * Check mode: each write's validate command, on the new content (see Remote.validate). A rejection
 * fails the dry run, as it would fail the real one; but when earlier tasks would have changed the
 * host first (installed the validator, written a file it reads), the host as it is now cannot
 * say, and the task is `unknown` with what the command said.
 */
async function validateInCheck(
  ctx: TaskContext,
  changes: readonly Change[],
): Promise<{ outcome: 'failed' | 'unknown'; message: string } | undefined> {
  for (const step of changes.flatMap((c) => c.steps)) {
    if (step.op !== 'write' || step.validate === undefined) continue;
    const said = await ctx.remote.validate(step);
    if (said === undefined) continue;
    return ctx.cache.changedBefore
      ? {
          outcome: 'unknown',
          message: `validate rejects the new ${step.path} on the host as it is now, before the changes earlier tasks would make: ${said}`,
        }
      : { outcome: 'failed', message: `validate rejects the new ${step.path}: ${said}` };
  }
  return undefined;
}

/** Output beyond this many characters per stream keeps its end (the part with the verdict). */
const OUTPUT_CHARS = 8000;

function lastChars(text: string): string {
  return text.length <= OUTPUT_CHARS ? text : `[...]${text.slice(-OUTPUT_CHARS)}`;
}

/** What the steps printed, as output and the journal show it: steps that printed, their ends. */
function shown(printed: readonly StepPrinted[]): StepOutput[] {
  return printed
    .filter((p) => p.stdout !== '' || p.stderr !== '')
    .map((p) => ({ step: p.step, stdout: lastChars(p.stdout), stderr: lastChars(p.stderr) }));
}

/**
 * Apply one change. Its undo is on the journal before anything runs: the change's own undo steps,
 * and, before each write, the restore of the file it replaces. Undo runs from the last record to
 * the first, so a change's file restores run before its own undo steps.
 */
async function applyChange(
  ctx: TaskContext,
  change: Change,
  index: number,
  printed: StepPrinted[],
): Promise<void> {
  // planProblem has checked that undo holds run and remove steps, and afterUndo run steps only.
  const undo = [...change.undo]
    .reverse()
    .map((u): UndoRecord =>
      u.op === 'remove'
        ? { op: 'remove', path: u.path, backup: newBackup(ctx.runId), task: index }
        : { ...recordStep(u as RunStep), task: index },
    );
  const afterUndo = (change.afterUndo ?? []).map((s) => recordStep(s as RunStep));
  ctx.journal.undo.push(...undo);
  ctx.journal.afterUndo.push(...afterUndo);
  await ctx.beforeChange({ task: index, change: change.summary, undo, afterUndo });
  for (const step of change.steps) {
    if (step.op === 'run') {
      const out = await ctx.remote.run(step);
      printed.push({ step: step.describe, stdout: out.stdout, stderr: out.stderr });
      continue;
    }
    const backup = newBackup(ctx.runId);
    // A removed path is "written" as absent: its undo puts it back unless something is there now.
    const restore: UndoRecord = {
      op: 'restore',
      path: step.path,
      backup,
      written: step.op === 'write' ? sha256Of(step.content) : 'absent',
      task: index,
    };
    ctx.journal.undo.push(restore);
    await ctx.beforeChange({ task: index, undo: [restore], afterUndo: [] });
    if (step.op === 'write') await ctx.remote.write(step, backup);
    else await ctx.remote.remove(step.path, backup);
  }
}

/** A backup's id on the host, in the run's own directory there. */
function newBackup(runId: string): string {
  return backupId(runId, randomBytes(6).toString('hex'));
}
