// The status line printed while a run waits on a long task: what Progress makes of the run's
// events (a table), and the terminal reporter printing it on its clock, only while it is needed.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../src/reporter/progress.ts';
import { Redactor } from '../../src/reporter/redact.ts';
import { terminalReporter } from '../../src/reporter/terminal.ts';
import type { RunEvent } from '../../src/runner/events.ts';

const runStart = (hosts: string[]): RunEvent => ({
  type: 'run-start',
  runId: 'r1',
  playbook: 'site.ts',
  inventory: 'inv.yaml',
  environment: 'staging',
  check: false,
  hosts,
});
const start = (host: string, task: string): RunEvent => ({
  type: 'task-start',
  host,
  index: 0,
  task,
  handler: false,
  time: new Date(0).toISOString(),
});
const hostEnd = (host: string): RunEvent => ({
  type: 'host-end',
  recap: {
    host,
    ok: 1,
    changed: 0,
    unknown: 0,
    failed: 0,
    skipped: 0,
    unreachable: false,
    rolledBack: false,
    roundTrips: 1,
    connectMs: 1,
    durationMs: 1,
  },
});

/** [what, events at their times (ms), the time the line is asked for, the line]. */
const ROWS: readonly [string, readonly [number, RunEvent][], number, string | null][] = [
  ['nothing running', [[0, runStart(['a', 'b'])]], 30_000, null],
  [
    'a task not yet 10 s long',
    [
      [0, runStart(['a'])],
      [1_000, start('a', 'aptInstall dma')],
    ],
    10_999,
    null,
  ],
  [
    'one long task',
    [
      [0, runStart(['a', 'b'])],
      [0, start('a', 'command build')],
      [500, hostEnd('b')],
    ],
    18_400,
    '1/2 hosts done; running: a command build (18 s)',
  ],
  [
    'longest first, then by name; five running: four named',
    [
      [0, runStart(['a', 'b', 'c', 'd', 'e'])],
      [5_000, start('e', 't5')],
      [0, start('d', 't4')],
      [0, start('c', 't3')],
      [2_000, start('b', 't2')],
      [1_000, start('a', 't1')],
    ],
    12_000,
    '0/5 hosts done; running: c t3 (12 s), d t4 (12 s), a t1 (11 s), b t2 (10 s) and 1 more',
  ],
];

for (const [what, events, at, want] of ROWS)
  test(`progress: ${what}`, () => {
    const p = new Progress();
    for (const [t, e] of events) p.observe(e, t);
    assert.equal(p.line(at, 10_000), want);
  });

test('the terminal reporter prints the status line every 10 s while a task runs that long, then stops', () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  try {
    let text = '';
    const report = terminalReporter((s) => (text += s), new Redactor(), {
      diff: false,
      color: false,
      verbose: false,
    });
    report(runStart(['lab1']));
    report(start('lab1', 'command make build'));
    mock.timers.tick(10_000);
    mock.timers.tick(10_000);
    assert.equal(
      text
        .split('\n')
        .filter((l) => l.startsWith('...'))
        .join('\n'),
      '... 0/1 hosts done; running: lab1 command make build (10 s)\n... 0/1 hosts done; running: lab1 command make build (20 s)',
    );
    report(hostEnd('lab1'));
    report({
      type: 'run-end',
      runId: 'r1',
      recap: [],
      notStarted: [],
      durationMs: 20_000,
      exitCode: 0,
    });
    const printed = text.length;
    mock.timers.tick(30_000);
    assert.equal(text.length, printed, 'nothing is printed after the run ended');
  } finally {
    mock.timers.reset();
  }
});
