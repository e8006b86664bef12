import { open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import type { DiffPart } from '../core/task.ts';
import type { Outcome, StepOutput } from './events.ts';
import type { RecordedRunStep, UndoStep } from './remote.ts';
import { stateDir, writeAtomic } from '../state/dir.ts';

export interface JournalTask {
  readonly index: number;
  readonly title: string;
  readonly type: string;
  readonly handler: boolean;
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly changes: readonly string[];
  readonly message?: string;
  /** What the task did that cannot be undone (a test message sent). */
  readonly sideEffects?: readonly string[];
  /** What its shell steps printed (masked like everything in the journal). */
  readonly output?: readonly StepOutput[];
  /** What it changed or would change, as `--diff` shows it (masked; a sensitive file's content never). */
  readonly diff?: readonly DiffPart[];
  /** When it ended (ISO time): with durationMs, where it sits on the run's timeline. */
  readonly finishedAt?: string;
}

/** An undo step with the task that made it. File restores carry the hash of what the run wrote. */
export type UndoRecord = UndoStep & { readonly task: number };

export type HostStatus =
  | 'ok'
  | 'changed'
  | 'would-change'
  | 'unknown'
  | 'failed'
  | 'unreachable'
  | 'rolled-back'
  | 'running'
  | 'not-started';

export interface HostJournal {
  status: HostStatus;
  tasks: JournalTask[];
  /** In the order they were recorded; undone from the last to the first. */
  undo: UndoRecord[];
  /** Steps to replay after an undo (restarts, so services run with the restored files). */
  afterUndo: RecordedRunStep[];
  rolledBack: boolean;
  /** Runs whose backups this run removed from the host (see --keep-backups). */
  prunedBackups?: string[];
}

export interface Journal {
  readonly runId: string;
  readonly playbook: string;
  readonly inventory: string;
  readonly environment: string;
  readonly check: boolean;
  /** Who ran it: user@controller. */
  readonly user?: string;
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
 * Save a journal's final state, `RUN_ID.json`. `redact` masks every secret value: step scripts and
 * messages pass through it, and file contents are never in a journal (a restore names a backup
 * kept on the host).
 */
export async function saveJournal(j: Journal, redact: (text: string) => string): Promise<void> {
  await writeAtomic(join(runsDir(), `${j.runId}.json`), `${redact(JSON.stringify(j))}\n`);
}

/** One line of a run's log (RUN_ID.log): what a killed run leaves, enough to roll it back. */
type LogLine =
  | { readonly t: 'run'; readonly journal: Omit<Journal, 'hosts'> & { hosts: string[] } }
  | {
      readonly t: 'undo';
      readonly host: string;
      readonly task: number;
      readonly change?: string;
      readonly undo: readonly UndoRecord[];
      readonly afterUndo: readonly RecordedRunStep[];
    }
  | { readonly t: 'task'; readonly host: string; readonly task: JournalTask }
  | { readonly t: 'status'; readonly host: string; readonly status: HostStatus };

/**
 * The durable part of a journal while a run goes on: an append-only log, fsynced before any change
 * it records is applied, so a controller killed at any moment leaves a run `fleetbook rollback`
 * can undo. Appends from many hosts are written and synced together (one fsync per batch), and a
 * run that changes nothing writes no log at all. Once the final journal is saved the log goes.
 */
export class RunLog {
  private file: FileHandle | undefined;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  /** Whether anything that changes a host was recorded: only then does the log exist. */
  private needed = false;

  constructor(
    private readonly header: Journal,
    private readonly redact: (text: string) => string,
  ) {
    const { hosts, ...meta } = header;
    this.pending.push(
      JSON.stringify({ t: 'run', journal: { ...meta, hosts: Object.keys(hosts) } }),
    );
  }

  private path(): string {
    return join(runsDir(), `${this.header.runId}.log`);
  }

  /** Queue a line; it reaches the disk with the next sync. */
  add(line: LogLine): void {
    if (line.t === 'undo') this.needed = true;
    this.pending.push(JSON.stringify(line));
  }

  /** Resolves when everything queued so far is on disk (once the log is needed at all). */
  async sync(): Promise<void> {
    while (this.needed && (this.pending.length > 0 || this.flushing !== undefined)) {
      if (this.flushing !== undefined) {
        await this.flushing;
        continue;
      }
      const batch = this.pending.splice(0);
      this.flushing = this.write(batch).finally(() => {
        this.flushing = undefined;
      });
      await this.flushing;
    }
  }

  private async write(lines: readonly string[]): Promise<void> {
    if (this.file === undefined) {
      await writeAtomic(this.path(), '');
      this.file = await open(this.path(), 'a', 0o600);
    }
    await this.file.write(`${lines.map((l) => this.redact(l)).join('\n')}\n`);
    await this.file.sync();
  }

  /** After the final journal is saved: the log is no longer needed. */
  async close(): Promise<void> {
    await this.sync();
    await this.file?.close();
    if (this.file !== undefined) await rm(this.path(), { force: true });
  }
}

/** Rebuild a journal from the log a killed run left. */
export function journalFromLog(text: string): Journal | undefined {
  let journal: Journal | undefined;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      continue; // the last line of a killed run may be cut short
    }
    if (line.t === 'run') {
      const { hosts, ...meta } = line.journal;
      journal = { ...meta, hosts: Object.fromEntries(hosts.map((h) => [h, newHostJournal()])) };
      continue;
    }
    const h = journal?.hosts[line.host];
    if (h === undefined) continue;
    if (line.t === 'undo') {
      h.undo.push(...line.undo);
      h.afterUndo.push(...line.afterUndo);
      if (h.status === 'not-started') h.status = 'running';
    } else if (line.t === 'task') {
      h.tasks.push(line.task);
      if (h.status === 'not-started') h.status = 'running';
    } else h.status = line.status;
  }
  return journal;
}

async function readJournalFile(dir: string, runId: string): Promise<Journal | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, `${runId}.json`), 'utf8')) as Journal;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    return journalFromLog(await readFile(join(dir, `${runId}.log`), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function loadJournal(runId: string): Promise<Journal> {
  if (!/^[\w-]+$/.test(runId))
    throw new ConfigError(`"${runId}" is not a run id (see \`fleetbook runs\`)`);
  const j = await readJournalFile(runsDir(), runId);
  if (j === undefined)
    throw new ConfigError(`no run ${runId} in ${runsDir()} (see \`fleetbook runs\`)`);
  return j;
}

/** Journals, newest first. Run ids start with a UTC timestamp, so they sort by time. */
export async function listJournals(limit = 20): Promise<Journal[]> {
  let names: string[];
  try {
    names = await readdir(runsDir());
  } catch {
    return [];
  }
  const ids = [
    ...new Set(
      names.filter((n) => /\.(json|log)$/.test(n)).map((n) => n.replace(/\.(json|log)$/, '')),
    ),
  ];
  ids.sort().reverse();
  const out: Journal[] = [];
  for (const id of ids.slice(0, limit)) {
    try {
      const j = await readJournalFile(runsDir(), id);
      if (j !== undefined) out.push(j);
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
