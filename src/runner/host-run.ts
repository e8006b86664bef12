import { randomBytes } from 'node:crypto';
import { TaskFailure, UnreachableError, errorMessage } from '../core/errors.ts';
import type { FactQuery, ProbeSpec } from '../core/facts.ts';
import type { HostView, Plan, Task } from '../core/task.ts';
import type { Transport } from '../transport/types.ts';
import {
  rollbackEvent,
  type Emit,
  type HostRecap,
  type Outcome,
  type TaskEndEvent,
} from './events.ts';
import { FactCache } from './fact-cache.ts';
import type { HostJournal } from './journal.ts';
import { BACKUP_ROOT, Remote } from './remote.ts';
import { undoChanges } from './undo.ts';

/** Everything about one host that was worked out before connecting. */
export interface PreparedHost {
  readonly view: HostView;
  readonly become: boolean;
  readonly tasks: readonly PreparedTask[];
  readonly handlers: ReadonlyMap<string, PreparedTask>;
}

export interface PreparedTask {
  readonly task: Task;
  readonly prepared: unknown;
}

export interface HostRunOptions {
  readonly runId: string;
  readonly check: boolean;
  readonly rollback: boolean;
  readonly emit: Emit;
  readonly connect: () => Promise<Transport>;
  /** Filled in as the host runs: tasks, undo records, status. */
  readonly journal: HostJournal;
  /** Handlers an earlier run owed this host (a change was kept but the handler never ran). */
  readonly owed: readonly string[];
  /** Checked before each task: a rollout that must stop (--any-errors-fatal) stops here. */
  readonly shouldStop: () => boolean;
}

export interface HostResult {
  readonly recap: HostRecap;
  /** Handlers notified but not run, whose changes were kept: owed to the next run. */
  readonly pending: readonly string[];
}

/** Run one host's tasks in order, then its notified handlers; undo this run's changes on failure. */
export async function runHost(host: PreparedHost, opts: HostRunOptions): Promise<HostResult> {
  const started = Date.now();
  const name = host.view.name;
  const journal = opts.journal;
  const tally = { ok: 0, changed: 0, unknown: 0, failed: 0, skipped: 0 };
  let roundTrips = (): number => 0;
  let connectMs = 0;
  const result = (unreachable: boolean, pending: readonly string[]): HostResult => ({
    recap: {
      host: name,
      ...tally,
      unreachable,
      rolledBack: journal.rolledBack,
      roundTrips: roundTrips(),
      connectMs,
      durationMs: Date.now() - started,
    },
    pending,
  });

  let transport: Transport;
  try {
    transport = await opts.connect();
    connectMs = Date.now() - started;
  } catch (err) {
    journal.status = 'unreachable';
    opts.emit({
      type: 'task-end',
      host: name,
      index: 0,
      task: 'connect',
      taskType: 'connect',
      handler: false,
      outcome: 'unreachable',
      changes: [],
      diff: [],
      message: errorMessage(err),
      durationMs: Date.now() - started,
      timing: { probeMs: 0, planMs: 0, applyMs: 0 },
    });
    return result(true, opts.owed);
  }
  const remote = new Remote(transport, host.become);
  roundTrips = () => remote.roundTrips;
  const cache = new FactCache(remote);
  const backupDir = `${BACKUP_ROOT}/${opts.runId}`;
  const notified = new Set<string>(opts.owed);
  let changedAny = false;
  let failed = false;
  let unreachable = false;

  const runOne = async (
    r: Remote,
    pt: PreparedTask,
    index: number,
    handler: boolean,
    spec: ProbeSpec,
    upcoming: readonly FactQuery[],
  ): Promise<Outcome> => {
    const t0 = performance.now();
    // Where the task's time went, for --profile: reading the host, planning, acting (and verifying).
    const timing = { probeMs: 0, planMs: 0, applyMs: 0 };
    opts.emit({ type: 'task-start', host: name, index, task: pt.task.title, handler });
    const end = (
      outcome: Outcome,
      extra: Partial<Pick<TaskEndEvent, 'changes' | 'diff' | 'message' | 'details'>> = {},
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
        durationMs: Math.round(performance.now() - t0),
        timing: {
          probeMs: Math.round(timing.probeMs),
          planMs: Math.round(timing.planMs),
          applyMs: Math.round(timing.applyMs),
        },
      };
      opts.emit(event);
      journal.tasks.push({
        index,
        title: event.task,
        type: event.taskType,
        handler,
        outcome,
        durationMs: event.durationMs,
        changes: event.changes,
        ...(event.message !== undefined ? { message: event.message } : {}),
      });
      return outcome;
    };
    const failure = (
      err: unknown,
      extra: Partial<Pick<TaskEndEvent, 'changes' | 'diff'>> = {},
    ): Outcome =>
      err instanceof UnreachableError
        ? end('unreachable', { ...extra, message: err.message })
        : end('failed', {
            ...extra,
            message: errorMessage(err),
            ...(err instanceof TaskFailure && err.details !== undefined
              ? { details: err.details }
              : {}),
          });

    let plan: Plan;
    try {
      const facts = await cache.get(spec, upcoming);
      const t1 = performance.now();
      timing.probeMs = t1 - t0;
      plan = pt.task.plan(facts, pt.prepared, { host: host.view, notified: handler });
      timing.planMs = performance.now() - t1;
    } catch (err) {
      return failure(err);
    }
    if (plan.status === 'fail') return end('failed', { message: plan.message });
    if (plan.status === 'unknown') {
      // Only check mode may leave a question open; a real run must not act on a guess.
      return end(opts.check ? 'unknown' : 'failed', { message: plan.reason });
    }
    const changes = plan.status === 'change' ? plan.changes : [];
    const summary = {
      changes: changes.map((c) => c.summary),
      diff: changes.flatMap((c) => c.diff),
    };
    if (changes.length > 0) for (const n of pt.task.options.notify ?? []) notified.add(n);
    if (opts.check) {
      cache.simulate(changes.flatMap((c) => c.effects));
      const notes = [
        plan.status === 'ok' ? plan.note : undefined,
        ...(plan.verify ?? []).map((v) => `would ${v.describe}`),
      ];
      const message = notes.filter((x) => x !== undefined && x !== '').join('; ');
      return end(changes.length > 0 ? 'would-change' : 'ok', {
        ...summary,
        ...(message !== '' ? { message } : {}),
      });
    }
    try {
      const t2 = performance.now();
      for (const change of changes) {
        changedAny = true;
        // Undo is recorded before the steps run, so a step failing half-way is still undone.
        journal.undo.push(...change.undo.map((u) => ({ ...u, task: index })));
        journal.afterUndo.push(...(change.afterUndo ?? []));
        for (const step of change.steps) {
          const restore = await r.runStep(step, backupDir, randomBytes(6).toString('hex'));
          if (restore !== null) journal.undo.push({ ...restore, task: index });
        }
      }
      if (changes.length > 0) cache.invalidate();
      // A plan's note describes what the verify actions would do; once they ran, their results say more.
      const notes: string[] =
        plan.status === 'ok' && plan.note !== undefined && (plan.verify ?? []).length === 0
          ? [plan.note]
          : [];
      for (const v of plan.verify ?? []) {
        const note = await v.run(r);
        if (note !== undefined) notes.push(note);
      }
      timing.applyMs = performance.now() - t2;
      return end(changes.length > 0 ? 'changed' : 'ok', {
        ...summary,
        ...(notes.length > 0 ? { message: notes.join('; ') } : {}),
      });
    } catch (err) {
      if (err instanceof UnreachableError && changes.length > 0) {
        return end('unreachable', { ...summary, message: `${err.message}; ${await recheck(pt)}` });
      }
      return failure(err, summary);
    }
  };

  /**
   * The connection dropped while a task was changing the host: whether the change landed is not
   * guessed. Reconnect once and plan the task again against the host as it now is.
   */
  const recheck = async (pt: PreparedTask): Promise<string> => {
    try {
      const again = await opts.connect();
      try {
        const facts = await new FactCache(new Remote(again, host.become)).get(
          pt.task.probe(pt.prepared),
        );
        const plan = pt.task.plan(facts, pt.prepared, { host: host.view, notified: false });
        return plan.status === 'ok'
          ? 're-checked after reconnecting: the change is in place'
          : 're-checked after reconnecting: the change is NOT (fully) in place';
      } finally {
        await again.close();
      }
    } catch (err) {
      return `could not reconnect to re-check whether the change landed (${errorMessage(err)}): its state is unknown`;
    }
  };

  const count = (o: Outcome): void => {
    if (o === 'ok') tally.ok++;
    else if (o === 'changed' || o === 'would-change') tally.changed++;
    else if (o === 'unknown') tally.unknown++;
    else if (o === 'skipped') tally.skipped++;
    else if (o === 'unreachable') unreachable = true;
    else tally.failed++;
    if (o === 'failed') failed = true;
  };
  // Each task's probe, asked once: every miss prefetches the probes of all the tasks after it.
  const specs = host.tasks.map((pt) => pt.task.probe(pt.prepared));
  const upcoming = (from: number): FactQuery[] =>
    specs.slice(from).flatMap((s) => Object.values(s));

  let stopped = false;
  for (const [i, pt] of host.tasks.entries()) {
    if (opts.shouldStop()) {
      stopped = true;
      break;
    }
    count(await runOne(remote, pt, i + 1, false, specs[i] ?? {}, upcoming(i + 1)));
    if (failed || unreachable) break;
  }
  const ran = new Set<string>();
  if (!failed && !unreachable && !stopped) {
    let i = host.tasks.length;
    for (const [hname, pt] of host.handlers) {
      if (!notified.has(hname)) continue;
      const o = await runOne(remote, pt, ++i, true, pt.task.probe(pt.prepared), []);
      count(o);
      if (o === 'changed' || o === 'ok') ran.add(hname);
      if (failed || unreachable) break;
    }
  }

  if (failed && !opts.check && opts.rollback && journal.undo.length > 0) {
    journal.rolledBack = true;
    await undoChanges(remote, journal.undo, journal.afterUndo, backupDir, false, (r) => {
      opts.emit(rollbackEvent(name, r));
    });
  }
  await transport.close();
  journal.status = unreachable
    ? 'unreachable'
    : failed
      ? journal.rolledBack
        ? 'rolled-back'
        : 'failed'
      : changedAny
        ? 'changed'
        : 'ok';
  // Owed handlers: notified, not run, and the changes that notified them were kept.
  const pending =
    opts.check || journal.rolledBack ? opts.owed : [...notified].filter((h) => !ran.has(h));
  return result(unreachable, pending);
}
