import { randomBytes } from 'node:crypto';
import { TaskFailure, UnreachableError, errorMessage } from '../core/errors.ts';
import type { FactQuery } from '../core/facts.ts';
import type { HostView, Plan, Task } from '../core/task.ts';
import type { Transport } from '../transport/types.ts';
import type { Emit, HostRecap, Outcome, TaskEndEvent } from './events.ts';
import { FactCache } from './fact-cache.ts';
import { BACKUP_ROOT, Remote, describeUndo, type UndoStep } from './remote.ts';

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
}

interface Tally {
  ok: number;
  changed: number;
  unknown: number;
  failed: number;
  skipped: number;
}

/** Run one host's tasks in order, then its notified handlers; roll back this run's changes on failure. */
export async function runHost(host: PreparedHost, opts: HostRunOptions): Promise<HostRecap> {
  const started = Date.now();
  const name = host.view.name;
  const tally: Tally = { ok: 0, changed: 0, unknown: 0, failed: 0, skipped: 0 };
  const recap = (
    extra: { unreachable?: boolean; rolledBack?: boolean },
    roundTrips: number,
  ): HostRecap => ({
    host: name,
    ...tally,
    unreachable: extra.unreachable ?? false,
    rolledBack: extra.rolledBack ?? false,
    roundTrips,
    durationMs: Date.now() - started,
  });

  let transport: Transport;
  try {
    transport = await opts.connect();
  } catch (err) {
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
    });
    return recap({ unreachable: true }, 0);
  }
  const remote = new Remote(transport, host.become);
  const cache = new FactCache(remote);
  const backupDir = `${BACKUP_ROOT}/${opts.runId}`;
  const undoLog: UndoStep[] = [];
  const notified = new Set<string>();
  let failed = false;
  let unreachable = false;

  const runOne = async (
    pt: PreparedTask,
    index: number,
    handler: boolean,
    upcoming: readonly FactQuery[],
  ): Promise<Outcome> => {
    const t0 = Date.now();
    opts.emit({ type: 'task-start', host: name, index, task: pt.task.title, handler });
    const end = (
      outcome: Outcome,
      extra: Partial<Pick<TaskEndEvent, 'changes' | 'diff' | 'message' | 'details'>> = {},
    ): Outcome => {
      opts.emit({
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
        durationMs: Date.now() - t0,
      });
      return outcome;
    };
    let plan: Plan;
    try {
      const facts = await cache.get(pt.task.probe(pt.prepared), upcoming);
      plan = pt.task.plan(facts, pt.prepared, { host: host.view, notified: handler });
    } catch (err) {
      if (err instanceof UnreachableError) return end('unreachable', { message: err.message });
      return end('failed', {
        message: errorMessage(err),
        ...(err instanceof TaskFailure && err.details !== undefined
          ? { details: err.details }
          : {}),
      });
    }
    if (plan.status === 'fail') return end('failed', { message: plan.message });
    if (plan.status === 'unknown') {
      // Only check mode may leave a question open; a real run must not act on a guess.
      return opts.check
        ? end('unknown', { message: plan.reason })
        : end('failed', { message: plan.reason });
    }
    const changes = plan.status === 'change' ? plan.changes : [];
    const summary = {
      changes: changes.map((c) => c.summary),
      diff: changes.flatMap((c) => c.diff),
    };
    if (opts.check) {
      cache.simulate(changes.flatMap((c) => c.effects));
      if (changes.length > 0) for (const n of pt.task.options.notify ?? []) notified.add(n);
      const note = plan.status === 'ok' ? plan.note : undefined;
      const verify = plan.verify?.map((v) => `would ${v.describe}`).join('; ');
      const message = [note, verify].filter((x) => x !== undefined && x !== '').join('; ');
      return end(changes.length > 0 ? 'would-change' : 'ok', {
        ...summary,
        ...(message !== '' ? { message } : {}),
      });
    }
    try {
      for (const change of changes) {
        // Undo is recorded before the steps run, so a step failing half-way is still rolled back.
        undoLog.push(...change.undo);
        for (const step of change.steps) {
          const restore = await remote.runStep(step, backupDir, randomBytes(6).toString('hex'));
          if (restore !== null) undoLog.push(restore);
        }
      }
      if (changes.length > 0) {
        cache.invalidate();
        for (const n of pt.task.options.notify ?? []) notified.add(n);
      }
      const notes: string[] = [];
      if (plan.status === 'ok' && plan.note !== undefined) notes.push(plan.note);
      for (const v of plan.verify ?? []) {
        const note = await v.run(remote);
        if (note !== undefined) notes.push(note);
      }
      return end(changes.length > 0 ? 'changed' : 'ok', {
        ...summary,
        ...(notes.length > 0 ? { message: notes.join('; ') } : {}),
      });
    } catch (err) {
      if (err instanceof UnreachableError)
        return end('unreachable', { ...summary, message: err.message });
      return end('failed', {
        ...summary,
        message: errorMessage(err),
        ...(err instanceof TaskFailure && err.details !== undefined
          ? { details: err.details }
          : {}),
      });
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

  const allQueries = (from: number): FactQuery[] =>
    host.tasks.slice(from).flatMap((pt) => Object.values(pt.task.probe(pt.prepared)));

  for (const [i, pt] of host.tasks.entries()) {
    count(await runOne(pt, i + 1, false, allQueries(i + 1)));
    if (failed || unreachable) break;
  }
  if (!failed && !unreachable) {
    let i = host.tasks.length;
    for (const [hname, pt] of host.handlers) {
      if (!notified.has(hname)) continue;
      count(await runOne(pt, ++i, true, []));
      if (failed || unreachable) break;
    }
  }

  let rolledBack = false;
  if (failed && !opts.check && opts.rollback && undoLog.length > 0) {
    rolledBack = true;
    for (const step of undoLog.reverse()) {
      try {
        await remote.runStep(step, backupDir, 'rollback');
        opts.emit({ type: 'rollback', host: name, step: describeUndo(step), ok: true });
      } catch (err) {
        opts.emit({
          type: 'rollback',
          host: name,
          step: describeUndo(step),
          ok: false,
          message: errorMessage(err),
        });
      }
    }
  }
  await transport.close();
  return recap({ unreachable, rolledBack }, remote.roundTrips);
}
