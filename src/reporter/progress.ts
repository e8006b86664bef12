import type { RunEvent } from '../runner/events.ts';

/** How many running hosts a status line names; the rest are counted. */
const NAMED = 4;

const seconds = (ms: number): string => `${Math.floor(ms / 1000)} s`;

/**
 * What is running now, from the run's events: for the status line printed while a run waits on
 * a long task (an 18 s build, a first apt install), when no task has ended for a while.
 */
export class Progress {
  private readonly running = new Map<string, { readonly task: string; readonly since: number }>();
  private hosts = 0;
  private done = 0;
  private started = 0;
  /** Hosts with a failed or unreachable task, in the order they failed. */
  private readonly failed = new Set<string>();

  /** `now`: when the event arrived (ms), the clock the line is measured with. */
  observe(e: RunEvent, now: number): void {
    switch (e.type) {
      case 'run-start':
        this.hosts = e.hosts.length;
        this.done = 0;
        this.started = now;
        this.running.clear();
        this.failed.clear();
        break;
      case 'task-start':
        this.running.set(e.host, { task: e.task, since: now });
        break;
      case 'task-end':
        this.running.delete(e.host);
        if (e.outcome === 'failed' || e.outcome === 'unreachable') this.failed.add(e.host);
        break;
      case 'host-end':
        this.done++;
        this.running.delete(e.recap.host);
        break;
      default:
        break;
    }
  }

  /**
   * `1/3 hosts done; running: lab2 aptInstall dma (18 s), lab3 ... (12 s)`, longest first; null
   * while no task has run `afterMs` yet.
   */
  line(now: number, afterMs: number): string | null {
    const tasks = this.tasks(now);
    if (tasks.length === 0 || (tasks[0]?.ms ?? 0) < afterMs) return null;
    const named = tasks.slice(0, NAMED).map((t) => `${t.host} ${t.task} (${seconds(t.ms)})`);
    const more = tasks.length > NAMED ? ` and ${tasks.length - NAMED} more` : '';
    return `${this.done}/${this.hosts} hosts done; running: ${named.join(', ')}${more}`;
  }

  /**
   * The live area on a terminal: hosts done and failed, the run's time, then each running host's
   * task and how long it has run (longest first), at most `rows` of them.
   */
  frame(now: number, rows: number): string[] {
    const failed = [...this.failed];
    const head = [
      `${this.done}/${this.hosts} hosts done`,
      ...(failed.length > 0
        ? [
            `${failed.length} failed (${failed.slice(0, NAMED).join(', ')}${failed.length > NAMED ? ', ...' : ''})`,
          ]
        : []),
      clock(now - this.started),
    ].join(' · ');
    const tasks = this.tasks(now);
    const shown = tasks.length > rows ? tasks.slice(0, Math.max(0, rows - 1)) : tasks;
    const width = Math.max(0, ...shown.map((t) => t.host.length));
    return [
      head,
      ...shown.map((t) => `  ${t.host.padEnd(width)}  ${t.task} (${seconds(t.ms)})`),
      ...(shown.length < tasks.length ? [`  and ${tasks.length - shown.length} more running`] : []),
    ];
  }

  private tasks(now: number): { host: string; task: string; ms: number }[] {
    return [...this.running.entries()]
      .map(([host, r]) => ({ host, task: r.task, ms: now - r.since }))
      .sort((a, b) => b.ms - a.ms || a.host.localeCompare(b.host));
  }
}

/** 0:07, 12:30, 1:02:03 */
function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
