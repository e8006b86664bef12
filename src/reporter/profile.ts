import type { HostRecap, RunEvent } from '../runner/events.ts';

export interface TaskProfile {
  readonly index: number;
  readonly task: string;
  readonly hosts: number;
  readonly probeMs: number;
  readonly planMs: number;
  readonly applyMs: number;
  /** The slowest host's time for this task. */
  readonly maxMs: number;
}

export interface Profile {
  readonly type: 'profile';
  readonly hosts: number;
  readonly wallMs: number;
  readonly connectMs: { readonly sum: number; readonly max: number };
  readonly roundTrips: { readonly mean: number; readonly max: number };
  /** Controller peak resident memory, MB. */
  readonly peakRssMb: number;
  readonly tasks: readonly TaskProfile[];
}

/** Collects task timings from the run's events (`--profile`): where the time went, per task, across hosts. */
export class ProfileCollector {
  private readonly byTask = new Map<
    number,
    { task: string; hosts: number; probeMs: number; planMs: number; applyMs: number; maxMs: number }
  >();
  private recap: readonly HostRecap[] = [];
  private wallMs = 0;

  readonly observe = (e: RunEvent): void => {
    if (e.type === 'task-end' && e.index > 0) {
      const t = this.byTask.get(e.index) ?? {
        task: e.task,
        hosts: 0,
        probeMs: 0,
        planMs: 0,
        applyMs: 0,
        maxMs: 0,
      };
      t.hosts++;
      t.probeMs += e.timing.probeMs;
      t.planMs += e.timing.planMs;
      t.applyMs += e.timing.applyMs;
      t.maxMs = Math.max(t.maxMs, e.durationMs);
      this.byTask.set(e.index, t);
    } else if (e.type === 'run-end') {
      this.recap = e.recap;
      this.wallMs = e.durationMs;
    }
  };

  summary(): Profile {
    const reached = this.recap.filter((r) => !r.unreachable);
    const trips = reached.map((r) => r.roundTrips);
    const connects = reached.map((r) => r.connectMs);
    return {
      type: 'profile',
      hosts: this.recap.length,
      wallMs: this.wallMs,
      connectMs: { sum: connects.reduce((a, b) => a + b, 0), max: Math.max(0, ...connects) },
      roundTrips: {
        mean: trips.length === 0 ? 0 : trips.reduce((a, b) => a + b, 0) / trips.length,
        max: Math.max(0, ...trips),
      },
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      tasks: [...this.byTask.entries()]
        .sort(([a], [b]) => a - b)
        .map(([index, t]) => ({ index, ...t })),
    };
  }
}

export function formatProfile(p: Profile): string {
  const rows = p.tasks.map((t) => [
    String(t.index),
    t.task,
    String(t.hosts),
    String(t.probeMs),
    String(t.planMs),
    String(t.applyMs),
    String(t.maxMs),
  ]);
  const head = ['#', 'task', 'hosts', 'probe ms', 'plan ms', 'apply ms', 'slowest host ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string =>
    r.map((v, i) => (i === 1 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  return [
    `PROFILE: ${p.hosts} hosts in ${(p.wallMs / 1000).toFixed(2)} s; connect ${p.connectMs.max} ms (slowest host); ` +
      `${p.roundTrips.mean.toFixed(1)} round trips per host (max ${p.roundTrips.max}); controller peak memory ${p.peakRssMb} MB`,
    'times are summed over hosts (probe = reading the host, apply = changing and verifying it)',
    fmt(head),
    ...rows.map(fmt),
  ].join('\n');
}
