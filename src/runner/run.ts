import { randomBytes } from 'node:crypto';
import { EXIT } from './exit-codes.ts';
import { controllerUser } from '../core/controller-user.ts';
import pLimit from 'p-limit';
import type { HostFacts } from '../core/host-facts.ts';
import type { HostView } from '../core/task.ts';
import type { ResolvedHost } from '../inventory/load.ts';
import { connector, type ConnectSettings } from '../transport/connect.ts';
import { closeGathered, gatherFacts, type Gathered } from './gather-facts.ts';
import type { LockSettings } from './open-remote.ts';
import { sessionAs } from './prepare.ts';
import { connectSettings, RUN_DEFAULTS, runWho } from './settings.ts';
import type { Emit, HostRecap } from './events.ts';
import { runHost, type PreparedHost } from './host-run.ts';
import { newHostJournal, RunLog, saveJournal, type Journal } from './journal.ts';
import { owedHandlers, saveOwedHandlers } from './pending.ts';
import {
  prepareRun,
  prepareWithFacts,
  unmatchedTags,
  type PreparedRun,
  type RunInputs,
} from './prepare-run.ts';
import { batches, batchStopsRollout, type Serial } from './rollout.ts';

export interface RunOptions extends RunInputs {
  readonly forks: number;
  readonly rollback: boolean;
  readonly acceptNewHostKeys: boolean;
  readonly serial?: Serial | undefined;
  readonly maxFailPercent?: number | undefined;
  readonly anyErrorsFatal?: boolean | undefined;
  /** Masks secrets in what is written to the controller's disk (journals). */
  readonly redact?: (text: string) => string;
  /** Backups of how many runs each host keeps for `fleetbook rollback` (default 10). */
  readonly keepBackups?: number | undefined;
  /** Whether anyone sees diffs (--diff, --json); default true. Without, file bytes that only serve a diff are not read. */
  readonly diffs?: boolean | undefined;
  /** A task's time limit when it sets none (default 3600 s). */
  readonly taskTimeoutSeconds?: number | undefined;
  /** How long to wait for another run's lock on a host before refusing it (default 60 s). */
  readonly lockWaitSeconds?: number | undefined;
  readonly connectTimeoutSeconds?: number | undefined;
  readonly aliveTimeoutSeconds?: number | undefined;
}

export interface RunResult {
  readonly runId: string;
  readonly recap: readonly HostRecap[];
  readonly notStarted: readonly string[];
  readonly exitCode: number;
}

export { EXIT };

export function newRunId(now = new Date()): string {
  // The suffix starts with the milliseconds (3 hex digits): ids sort by time within a second too,
  // which pruning backups and "the latest run" rely on (runs a second apart are common now).
  const ms = now.getUTCMilliseconds().toString(16).padStart(3, '0');
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${ms}${randomBytes(2).toString('hex').slice(0, 3)}`;
}

/** Exit status: 2 if any task failed or the rollout stopped early, else 4 if any host was unreachable, else 0. */
export function exitCodeFor(recap: readonly HostRecap[], stoppedEarly: boolean): number {
  if (stoppedEarly || recap.some((r) => r.failed > 0)) return EXIT.failed;
  if (recap.some((r) => r.unreachable)) return EXIT.unreachable;
  return EXIT.ok;
}

/**
 * Run a playbook against an inventory. Everything that can be validated is validated for every
 * host before the first connection; a playbook that reads host facts has its tasks made and
 * validated once every host's facts are read (read-only), still before any host is changed. Then
 * hosts run in parallel, `forks` at a time, in batches when `serial` is set.
 */
export async function runPlaybook(opts: RunOptions, emit: Emit): Promise<RunResult> {
  const started = Date.now();
  const runId = newRunId();
  const run = await prepareRun(opts, { connecting: true });
  const settings = connectSettings(opts);
  const lock = {
    waitSeconds: opts.lockWaitSeconds ?? RUN_DEFAULTS.lockWaitSeconds,
    who: runWho(runId),
  };
  const gathered = run.playbook.facts
    ? await gatherFacts(run.hosts, (h) => connector(h, settings), {
        forks: opts.forks,
        lock: opts.check ? 'shared' : 'exclusive',
        lockSettings: lock,
        timeoutSeconds: opts.taskTimeoutSeconds ?? RUN_DEFAULTS.taskTimeoutSeconds,
      })
    : new Map<string, Gathered>();
  const context = { runId, started, settings, lock, gathered };
  try {
    if (!run.playbook.facts) return await runHosts(opts, emit, run, context);
    const prepared = await prepareWithFacts(run, opts, factsOf(gathered));
    const warnings = [...run.warnings, ...unmatchedTags(opts, [...prepared.values()])];
    return await runHosts(opts, emit, { ...run, prepared, warnings }, context);
  } finally {
    await closeGathered(gathered.values());
  }
}

function factsOf(gathered: ReadonlyMap<string, Gathered>): Map<string, HostFacts> {
  const out = new Map<string, HostFacts>();
  for (const [name, g] of gathered) if (g.ok) out.set(name, g.facts);
  return out;
}

function failing(err: Error): () => Promise<never> {
  return () => Promise.reject(err);
}

/** A host whose facts could not be read runs no task: its run reports it unreachable. */
function unreachableHost(view: HostView, h: ResolvedHost): PreparedHost {
  return { view, ...sessionAs(h), tasks: [], handlers: new Map(), tags: [] };
}

/** What every host of one run shares; `gathered`: the sessions facts were read in, taken over by the host runs. */
interface RunContext {
  readonly runId: string;
  readonly started: number;
  readonly settings: ConnectSettings;
  readonly lock: LockSettings;
  readonly gathered: Map<string, Gathered>;
}

/** The hosts' runs, batch by batch, `forks` at a time; the journal and the owed handlers kept. */
async function runHosts(
  opts: RunOptions,
  emit: Emit,
  { inv, file, hosts, prepared, views, warnings }: PreparedRun,
  { runId, started, settings, lock, gathered }: RunContext,
): Promise<RunResult> {
  const owed = opts.check ? {} : await owedHandlers(file, inv.file);

  const journal: Journal = {
    runId,
    playbook: file,
    inventory: inv.file,
    environment: inv.environment,
    check: opts.check,
    user: controllerUser(),
    startedAt: new Date(started).toISOString(),
    hosts: Object.fromEntries(hosts.map((h) => [h.name, newHostJournal()])),
  };
  const redact = opts.redact ?? ((t: string) => t);
  emit({
    type: 'run-start',
    runId,
    playbook: file,
    inventory: inv.file,
    environment: inv.environment,
    check: opts.check,
    hosts: hosts.map((h) => h.name),
  });
  for (const message of warnings) emit({ type: 'warning', message });
  const log = new RunLog(journal, redact);

  const limit = pLimit(Math.max(1, opts.forks));
  const recap: HostRecap[] = [];
  const pending: Record<string, readonly string[]> = {};
  let fatal = false;
  let stoppedEarly = false;
  const plan = batches(hosts, opts.serial);
  for (const [b, batch] of plan.entries()) {
    if (stoppedEarly) break;
    const last = b === plan.length - 1;
    const results = await Promise.all(
      batch.map((h) =>
        limit(async () => {
          const g = gathered.get(h.name);
          // A host whose facts could not be read: its run reports why, as for any connection.
          const unreadable = g?.ok === false ? g.error : undefined;
          const view = views.get(h.name);
          const ph =
            prepared.get(h.name) ??
            (unreadable !== undefined && view !== undefined ? unreachableHost(view, h) : undefined);
          const hj = journal.hosts[h.name];
          if (ph === undefined || hj === undefined)
            throw new Error(`host ${h.name} was not prepared`);
          if (fatal) return undefined;
          // The host run takes over the session its facts were read in.
          gathered.delete(h.name);
          const r = await runHost(ph, {
            runId,
            check: opts.check,
            rollback: opts.rollback,
            emit,
            onTask: (task) => {
              log.add({ t: 'task', host: h.name, task });
            },
            connect: unreadable !== undefined ? failing(unreadable) : connector(h, settings),
            opened: g?.ok === true ? g.open : undefined,
            journal: hj,
            persist: async (entry) => {
              log.add({ t: 'undo', host: h.name, ...entry });
              await log.sync();
            },
            owed: (owed[h.name] ?? []).filter((n) => ph.handlers.has(n)),
            shouldStop: () => fatal,
            keepBackups: opts.keepBackups ?? RUN_DEFAULTS.keepBackups,
            lock,
            taskTimeoutSeconds: opts.taskTimeoutSeconds ?? RUN_DEFAULTS.taskTimeoutSeconds,
            diffs: opts.diffs ?? true,
          });
          log.add({ t: 'status', host: h.name, status: hj.status });
          if (opts.anyErrorsFatal === true && (r.recap.failed > 0 || r.recap.unreachable))
            fatal = true;
          pending[h.name] = r.pending;
          emit({ type: 'host-end', recap: r.recap });
          return r.recap;
        }),
      ),
    );
    const done = results.filter((r): r is HostRecap => r !== undefined);
    recap.push(...done);
    const bad = done.filter((r) => r.failed > 0 || r.unreachable).length;
    if (fatal) {
      stoppedEarly = true;
      journal.stopped = '--any-errors-fatal: a host failed';
    } else if (
      batchStopsRollout(bad, batch.length, opts.maxFailPercent) &&
      (!last || opts.maxFailPercent !== undefined)
    ) {
      // An explicit --max-fail-percent judges every batch, the last too; the default rule only
      // matters when there are batches left to spare.
      stoppedEarly = true;
      journal.stopped =
        opts.maxFailPercent === undefined
          ? `every host of a batch failed`
          : `${bad} of ${batch.length} hosts in a batch failed (${Math.round((bad * 100) / batch.length)}% > --max-fail-percent ${opts.maxFailPercent})`;
    }
  }
  const notStarted = hosts
    .map((h) => h.name)
    .filter((n) => journal.hosts[n]?.status === 'not-started');
  if (!opts.check) await saveOwedHandlers(file, inv.file, pending);
  const exitCode = exitCodeFor(recap, stoppedEarly);
  journal.finishedAt = new Date().toISOString();
  journal.exitCode = exitCode;
  await saveJournal(journal, redact);
  await log.close();
  emit({
    type: 'run-end',
    runId,
    recap,
    notStarted,
    ...(journal.stopped !== undefined ? { stopped: journal.stopped } : {}),
    durationMs: Date.now() - started,
    exitCode,
  });
  return { runId, recap, notStarted, exitCode };
}
