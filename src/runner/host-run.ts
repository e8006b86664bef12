import { errorMessage, TaskFailure } from '../core/errors.ts';
import type { FactQuery } from '../core/facts.ts';
import type { HostView } from '../core/task.ts';
import type { Transport } from '../transport/types.ts';
import {
  rollbackEvent,
  type Emit,
  type HostRecap,
  type Outcome,
  type TaskEndEvent,
} from './events.ts';
import { FactCache } from './fact-cache.ts';
import type { HostJournal, HostStatus, JournalTask } from './journal.ts';
import {
  closeHost,
  openHost,
  openRemote,
  type LockSettings,
  type OpenHost,
} from './open-remote.ts';
import { expandDeferred, resultsRead } from './deferred.ts';
import {
  journalTask,
  runTask,
  type ChangeEntry,
  type PreparedTask,
  type ResultState,
  type TaskContext,
} from './task-run.ts';
import { undoChanges } from './undo.ts';

export type { PreparedTask };

/** Everything about one host that was worked out before connecting. */
export interface PreparedHost {
  readonly view: HostView;
  readonly become: boolean;
  /** Commands run as root (by become, or by logging in as root). */
  readonly asRoot: boolean;
  readonly tasks: readonly PreparedTask[];
  readonly handlers: ReadonlyMap<string, PreparedTask>;
  /** Every tag of the playbook's tasks and handlers for this host, before --tags filtered them. */
  readonly tags: readonly string[];
}

export interface HostRunOptions {
  readonly runId: string;
  readonly check: boolean;
  readonly rollback: boolean;
  readonly emit: Emit;
  readonly connect: () => Promise<Transport>;
  /** The host's session, when the run opened it already (to read facts); the host run closes it. */
  readonly opened?: OpenHost | undefined;
  /** Filled in as the host runs: tasks, undo records, status. */
  readonly journal: HostJournal;
  /** Resolves once the journal durably holds this change (see TaskContext). */
  readonly persist: (entry: ChangeEntry) => Promise<void>;
  /** Called with each task's journal record as it ends. */
  readonly onTask: (task: JournalTask) => void;
  /** Handlers an earlier run owed this host (a change was kept but the handler never ran). */
  readonly owed: readonly string[];
  /** Checked before each task: a rollout that must stop (--any-errors-fatal) stops here. */
  readonly shouldStop: () => boolean;
  /** After a real run, backups of older runs beyond this many are removed from the host. */
  readonly keepBackups: number;
  /** How long to wait for another run's lock on the host, and who this run is (for others' messages). */
  readonly lock: LockSettings;
  /** A task's time limit when it sets none (probe, changes and checks together). */
  readonly taskTimeoutSeconds: number;
  /** Whether diffs are shown or kept (--diff, --json): without, file bytes that only serve a diff stay on the host. */
  readonly diffs: boolean;
}

export interface HostResult {
  readonly recap: HostRecap;
  /** Handlers notified but not run, whose changes were kept: owed to the next run. */
  readonly pending: readonly string[];
}

interface Tally {
  ok: number;
  changed: number;
  unknown: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
}

function count(t: Tally, o: Outcome): void {
  if (o === 'ok') t.ok++;
  else if (o === 'changed' || o === 'would-change') t.changed++;
  else if (o === 'unknown') t.unknown++;
  else if (o === 'skipped') t.skipped++;
  else if (o === 'unreachable') t.unreachable = true;
  else t.failed++;
}

/** A host's status in the journal, from what its tasks did. */
export function hostStatus(t: Tally, check: boolean, rolledBack: boolean): HostStatus {
  if (t.unreachable) return 'unreachable';
  if (t.failed > 0) return rolledBack ? 'rolled-back' : 'failed';
  if (t.changed > 0) return check ? 'would-change' : 'changed';
  if (t.unknown > 0) return 'unknown';
  return 'ok';
}

/** Run one host's tasks in order, then its notified handlers; undo this run's changes on failure. */
export async function runHost(host: PreparedHost, opts: HostRunOptions): Promise<HostResult> {
  const started = Date.now();
  const name = host.view.name;
  const journal = opts.journal;
  const tally: Tally = { ok: 0, changed: 0, unknown: 0, failed: 0, skipped: 0, unreachable: false };
  let roundTrips = (): number => 0;
  let connectMs = 0;
  const result = (pending: readonly string[]): HostResult => ({
    recap: {
      host: name,
      ok: tally.ok,
      changed: tally.changed,
      unknown: tally.unknown,
      failed: tally.failed,
      skipped: tally.skipped,
      unreachable: tally.unreachable,
      rolledBack: journal.rolledBack,
      roundTrips: roundTrips(),
      connectMs,
      durationMs: Date.now() - started,
    },
    pending,
  });

  let opened: OpenHost;
  try {
    opened =
      opts.opened ??
      (await openHost(opts.connect, name, host, opts.check ? 'shared' : 'exclusive', opts.lock));
    connectMs = Date.now() - started;
  } catch (err) {
    journal.status = 'unreachable';
    tally.unreachable = true;
    opts.emit(connectFailed(name, err, started));
    return result(opts.owed);
  }
  journal.status = 'running';
  const r = opened.remote;
  roundTrips = () => r.roundTrips;
  const ctx: TaskContext = {
    view: host.view,
    runId: opts.runId,
    check: opts.check,
    remote: r,
    cache: new FactCache(r, opts.diffs, opts.check),
    emit: opts.emit,
    journal,
    recordTask: (t) => {
      journal.tasks.push(t);
      opts.onTask(t);
    },
    beforeChange: opts.persist,
    recheck: (pt) => recheck(pt, opts.connect, host, opts.lock),
    taskTimeoutSeconds: opts.taskTimeoutSeconds,
  };
  const notified = new Set<string>(opts.owed);
  const maybe = new Set<string>();
  const note = (pt: PreparedTask, notifies: boolean | 'maybe'): void => {
    if (notifies === false) return;
    for (const n of pt.task.options.notify ?? []) (notifies === true ? notified : maybe).add(n);
  };
  const stopHere = (): boolean => tally.failed > 0 || tally.unreachable;

  // Tasks are numbered as they run: a withResult entry's tasks take numbers in its place.
  let index = 0;
  const stand = (pt: PreparedTask, handler: boolean, outcome: Outcome, message: string): void => {
    count(tally, outcome);
    const e = standIn(name, ++index, pt, handler, outcome, message);
    opts.emit(e);
    ctx.recordTask(journalTask(e));
  };
  // The results later tasks read (withResult), by the uid of the task that gave them.
  const results = new Map<number, ResultState>();
  const wanted = new Set(resultsRead(host.tasks));
  const handlerNames = new Set(host.handlers.keys());
  /** Run a list of tasks; `after`: the facts of the tasks after the list, to prefetch. True if stopped. */
  const runList = async (
    list: readonly PreparedTask[],
    after: readonly FactQuery[],
  ): Promise<boolean> => {
    // Each task's probe, asked once: every miss prefetches the probes of all the tasks after it.
    const specs = list.map((pt) => pt.task.probe(pt.prepared));
    const upcoming = (from: number): FactQuery[] => [
      ...specs.slice(from).flatMap((s) => Object.values(s)),
      ...after,
    ];
    for (const [i, pt] of list.entries()) {
      if (opts.shouldStop()) return true;
      const d = pt.task.deferred;
      if (d !== undefined) {
        const x = await expandDeferred(d, results.get(d.source), host.view, handlerNames);
        if (!x.ok) stand(pt, false, x.outcome, x.message);
        else {
          for (const uid of resultsRead(x.tasks)) wanted.add(uid);
          if (await runList(x.tasks, upcoming(i + 1))) return true;
        }
      } else {
        const res = await runTask(
          ctx,
          pt,
          ++index,
          false,
          specs[i] ?? {},
          upcoming(i + 1),
          wanted.has(pt.task.uid),
        );
        if (res.result !== undefined) results.set(pt.task.uid, res.result);
        count(tally, res.outcome);
        note(pt, res.notifies);
      }
      if (stopHere()) return false;
    }
    return false;
  };
  const stopped = await runList(host.tasks, []);
  const ran = new Set<string>();
  if (!stopHere() && !stopped) {
    for (const [hname, pt] of host.handlers) {
      if (notified.has(hname)) {
        const res = await runTask(ctx, pt, ++index, true, pt.task.probe(pt.prepared), []);
        count(tally, res.outcome);
        if (res.outcome === 'changed' || res.outcome === 'ok') ran.add(hname);
        if (stopHere()) break;
      } else if (opts.check && maybe.has(hname)) {
        // Check mode cannot tell whether the tasks that notify it will change anything.
        stand(
          pt,
          true,
          'unknown',
          'may run: the tasks that notify it could not be decided in check mode',
        );
      }
    }
  }

  if (tally.failed > 0 && !opts.check && opts.rollback && journal.undo.length > 0) {
    journal.rolledBack = true;
    await undoChanges(r, journal.undo, journal.afterUndo, false, (u) => {
      opts.emit(rollbackEvent(name, u));
    });
  }
  // Only a run that changed the host adds backups; one that did not leaves pruning to the next that does.
  if (!opts.check && !tally.unreachable && journal.undo.length > 0) {
    try {
      const pruned = await r.pruneBackups(opts.keepBackups);
      if (pruned.length > 0) journal.prunedBackups = pruned;
    } catch {
      // Pruning is housekeeping; a host that dropped now keeps its backups until the next run.
    }
  }
  await closeHost(opened);
  journal.status = hostStatus(tally, opts.check, journal.rolledBack);
  // Owed handlers: notified, not run, and the changes that notified them were kept.
  const pending =
    opts.check || journal.rolledBack ? opts.owed : [...notified].filter((h) => !ran.has(h));
  return result(pending);
}

/** The host could not be reached (or its session not started): the one event for it. */
function connectFailed(host: string, err: unknown, started: number): TaskEndEvent {
  return {
    type: 'task-end',
    host,
    index: 0,
    task: 'connect',
    taskType: 'connect',
    handler: false,
    outcome: 'unreachable',
    changes: [],
    diff: [],
    message: errorMessage(err),
    ...(err instanceof TaskFailure && err.details !== undefined ? { details: err.details } : {}),
    durationMs: Date.now() - started,
    timing: { probeMs: 0, planMs: 0, applyMs: 0 },
  };
}

/** The end of a task that was decided without running it: a handler that may run, a withResult entry. */
function standIn(
  host: string,
  index: number,
  pt: PreparedTask,
  handler: boolean,
  outcome: Outcome,
  message: string,
): TaskEndEvent {
  return {
    type: 'task-end',
    host,
    index,
    task: pt.task.title,
    taskType: pt.task.type,
    handler,
    outcome,
    changes: [],
    diff: [],
    message,
    durationMs: 0,
    timing: { probeMs: 0, planMs: 0, applyMs: 0 },
  };
}

/**
 * The connection dropped while a task was changing the host: whether the change landed is not
 * guessed. Reconnect once and plan the task again against the host as it now is.
 */
async function recheck(
  pt: PreparedTask,
  connect: () => Promise<Transport>,
  host: PreparedHost,
  lock: LockSettings,
): Promise<string> {
  try {
    const again = await connect();
    try {
      // Read-only, and the dropped session may still hold the lock until its host notices.
      const { remote } = await openRemote(again, host.view.name, host, 'none', lock);
      const facts = await new FactCache(remote).get(pt.task.probe(pt.prepared));
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
}
