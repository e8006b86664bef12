/** One `fleetbook run ... --json --profile` as a user waits for it, and what its output says. */
import type { Profile } from '../src/reporter/profile.ts';
import type { HostRecap, RunEvent, TaskEndEvent } from '../src/runner/events.ts';
import { fleetbookCli, type BenchDirs } from './setup.ts';

export interface RunMeasure {
  /** The whole CLI process, spawn to exit. */
  readonly wallMs: number;
  /** The run's own duration (run-end's durationMs, from loading the inventory to the journal); the rest is node, module loading, the CLI. */
  readonly runMs: number;
  readonly exitCode: number;
  readonly hosts: number;
  /** Tasks that changed (or would change, in check mode), summed over hosts. */
  readonly changed: number;
  readonly unknown: number;
  readonly failed: number;
  readonly unreachable: number;
  readonly roundTrips: { readonly mean: number; readonly max: number };
  readonly peakRssMb: number;
  readonly connectMaxMs: number;
  readonly stdoutBytes: number;
  readonly profile: Profile | null;
  /** Tasks that were not ok, for error messages: "lab21: templateFile /etc/x: changed". */
  readonly notOk: readonly string[];
}

export interface RunArgs {
  readonly playbook: string;
  readonly inventory: string;
  readonly skipTags: readonly string[];
  readonly check: boolean;
  readonly forks?: number | undefined;
  readonly nodeArgs?: readonly string[];
}

export function runArgs(a: RunArgs): string[] {
  return [
    'run',
    a.playbook,
    '-i',
    a.inventory,
    ...(a.skipTags.length > 0 ? ['--skip-tags', a.skipTags.join(',')] : []),
    ...(a.check ? ['--check', '--diff'] : []),
    ...(a.forks !== undefined ? ['--forks', String(a.forks)] : []),
    '--json',
    '--profile',
  ];
}

export async function measureRun(a: RunArgs, dirs: BenchDirs): Promise<RunMeasure> {
  const r = await fleetbookCli(runArgs(a), dirs, a.nodeArgs ?? []);
  let profile: Profile | null = null;
  let recap: readonly HostRecap[] = [];
  let runMs = Number.NaN;
  const notOk: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as RunEvent | Profile;
    if (e.type === 'profile') profile = e;
    else if (e.type === 'run-end') {
      recap = e.recap;
      runMs = e.durationMs;
    } else if (e.type === 'task-end' && e.outcome !== 'ok') {
      const t: TaskEndEvent = e;
      notOk.push(
        `${t.host}: ${t.task}: ${t.outcome}${t.message !== undefined ? ` (${t.message})` : ''}`,
      );
    }
  }
  if (recap.length === 0)
    throw new Error(
      `fleetbook ${runArgs(a).join(' ')} exited ${r.code} without a run-end event:\n${r.stderr}${r.stdout.slice(-2000)}`,
    );
  const sum = (f: (h: HostRecap) => number): number => recap.reduce((s, h) => s + f(h), 0);
  return {
    wallMs: r.wallMs,
    runMs,
    exitCode: r.code,
    hosts: recap.length,
    changed: sum((h) => h.changed),
    unknown: sum((h) => h.unknown),
    failed: sum((h) => h.failed),
    unreachable: sum((h) => (h.unreachable ? 1 : 0)),
    roundTrips: profile?.roundTrips ?? { mean: Number.NaN, max: Number.NaN },
    peakRssMb: profile?.peakRssMb ?? Number.NaN,
    connectMaxMs: profile?.connectMs.max ?? Number.NaN,
    stdoutBytes: Buffer.byteLength(r.stdout),
    profile,
    notOk,
  };
}

/** A run that must have changed nothing on any host (and found nothing it would change). */
export function assertNoChange(m: RunMeasure, what: string): void {
  if (
    m.exitCode !== 0 ||
    m.changed !== 0 ||
    m.unknown !== 0 ||
    m.failed !== 0 ||
    m.unreachable !== 0
  ) {
    throw new Error(
      `${what}: expected 0 changed on ${m.hosts} hosts, got exit ${m.exitCode}, ${m.changed} changed, ` +
        `${m.unknown} unknown, ${m.failed} failed, ${m.unreachable} unreachable:\n  ${m.notOk.slice(0, 15).join('\n  ')}`,
    );
  }
}
