import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { Step } from '../core/task.ts';
import type { Outcome } from './events.ts';
import type { UndoStep } from './remote.ts';
import { stateDir, writeAtomic } from './state-dir.ts';

export interface JournalTask {
  readonly index: number;
  readonly title: string;
  readonly type: string;
  readonly handler: boolean;
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly changes: readonly string[];
  readonly message?: string;
}

/** An undo step with the task that made it. File restores carry the hash of what the run wrote. */
export type UndoRecord = UndoStep & { readonly task: number };

export type HostStatus =
  'ok' | 'changed' | 'failed' | 'unreachable' | 'rolled-back' | 'not-started';

export interface HostJournal {
  status: HostStatus;
  tasks: JournalTask[];
  /** In the order they were recorded; undone in reverse. */
  undo: UndoRecord[];
  /** Steps to replay after an undo (restarts, so services run with the restored files). */
  afterUndo: Step[];
  rolledBack: boolean;
}

export interface Journal {
  readonly runId: string;
  readonly playbook: string;
  readonly inventory: string;
  readonly environment: string;
  readonly check: boolean;
  readonly startedAt: string;
  finishedAt?: string;
  exitCode?: number;
  /** Why a rollout stopped early, if it did. */
  stopped?: string;
  readonly hosts: Record<string, HostJournal>;
}

export function newHostJournal(status: HostStatus = 'not-started'): HostJournal {
  return { status, tasks: [], undo: [], afterUndo: [], rolledBack: false };
}

function runsDir(): string {
  return join(stateDir(), 'runs');
}

/**
 * Save a journal. `redact` masks every secret value: step scripts and messages pass through it,
 * and file contents are never in a journal (a restore names a backup kept on the host).
 */
export function saveJournal(j: Journal, redact: (text: string) => string): Promise<void> {
  const timer = timers.get(j.runId);
  if (timer !== undefined) {
    clearTimeout(timer);
    timers.delete(j.runId);
  }
  // Hosts finish concurrently, often many at once. Saves of one journal are chained so they never
  // race on the file, and a save still waiting its turn already covers later calls: it serialises
  // the journal when it starts. So a burst of hosts finishing costs one or two writes, not one each.
  const waiting = queued.get(j.runId);
  if (waiting !== undefined) return waiting;
  const next = (saving.get(j.runId) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => {
      queued.delete(j.runId);
      return writeAtomic(join(runsDir(), `${j.runId}.json`), `${redact(JSON.stringify(j))}\n`);
    });
  queued.set(j.runId, next);
  saving.set(j.runId, next);
  return next;
}

/** How long a finished host may wait before its record is on disk (see saveJournalSoon). */
const SOON_MS = 500;

/**
 * While hosts are running: save within SOON_MS, together with whatever else finishes meanwhile.
 * A whole-journal write per finished host made large runs quadratic (200 hosts: ~200 writes of
 * a ~1 MB journal); this bounds them to two a second, off the host's own time. A failed write
 * is not lost: the run's final saveJournal writes the same state again, and reports its error.
 */
export function saveJournalSoon(j: Journal, redact: (text: string) => string): void {
  if (timers.has(j.runId)) return;
  timers.set(
    j.runId,
    setTimeout(() => {
      timers.delete(j.runId);
      saveJournal(j, redact).catch(() => undefined);
    }, SOON_MS),
  );
}

const timers = new Map<string, NodeJS.Timeout>();

/** Per run: the last save started or queued, and the save not yet started (if any). */
const saving = new Map<string, Promise<void>>();
const queued = new Map<string, Promise<void>>();

export async function loadJournal(runId: string): Promise<Journal> {
  if (!/^[\w-]+$/.test(runId))
    throw new ConfigError(`"${runId}" is not a run id (see \`fleetbook runs\`)`);
  try {
    return JSON.parse(await readFile(join(runsDir(), `${runId}.json`), 'utf8')) as Journal;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ConfigError(`no run ${runId} in ${runsDir()} (see \`fleetbook runs\`)`);
    throw err;
  }
}

/** Journals, newest first. Run ids start with a UTC timestamp, so they sort by time. */
export async function listJournals(limit = 20): Promise<Journal[]> {
  let names: string[];
  try {
    names = (await readdir(runsDir())).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  names.sort().reverse();
  const out: Journal[] = [];
  for (const n of names.slice(0, limit)) {
    try {
      out.push(JSON.parse(await readFile(join(runsDir(), n), 'utf8')) as Journal);
    } catch {
      // A journal being written by a concurrent run is skipped, not fatal.
    }
  }
  return out;
}

/** The latest real (not --check) run of this playbook and inventory, for --retry. */
export async function lastRun(playbook: string, inventory: string): Promise<Journal | undefined> {
  return (await listJournals(200)).find(
    (j) => j.playbook === playbook && j.inventory === inventory && !j.check,
  );
}
