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

  /** `now`: when the event arrived (ms), the clock the line is measured with. */
  observe(e: RunEvent, now: number): void {
    switch (e.type) {
      case 'run-start':
        this.hosts = e.hosts.length;
        this.done = 0;
        this.running.clear();
        break;
      case 'task-start':
        this.running.set(e.host, { task: e.task, since: now });
        break;
      case 'task-end':
        this.running.delete(e.host);
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
    const tasks = [...this.running.entries()]
      .map(([host, r]) => ({ host, task: r.task, ms: now - r.since }))
      .sort((a, b) => b.ms - a.ms || a.host.localeCompare(b.host));
    if (tasks.length === 0 || (tasks[0]?.ms ?? 0) < afterMs) return null;
    const named = tasks.slice(0, NAMED).map((t) => `${t.host} ${t.task} (${seconds(t.ms)})`);
    const more = tasks.length > NAMED ? ` and ${tasks.length - NAMED} more` : '';
    return `${this.done}/${this.hosts} hosts done; running: ${named.join(', ')}${more}`;
  }
}
