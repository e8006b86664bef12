// The status line printed while a run waits on a long task: what Progress makes of the run's
// events (a table), and the terminal reporter printing it on its clock, only while it is needed.
import { Writable } from 'node:stream';
import { mock, test } from 'node:test';
import xterm from '@xterm/headless';
import assert from 'node:assert/strict';
import { Progress } from '../../src/reporter/progress.ts';
import { Redactor } from '../../src/reporter/redact.ts';
import { terminalReporter } from '../../src/reporter/terminal.ts';
import type { RunEvent } from '../../src/runner/events.ts';

const { Terminal } = xterm;

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

const runEnd = (exitCode: number): RunEvent => ({
  type: 'run-end',
  runId: 'r1',
  recap: [],
  notStarted: [],
  durationMs: 1,
  exitCode,
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
    report(runEnd(0));
    const printed = text.length;
    mock.timers.tick(30_000);
    assert.equal(text.length, printed, 'nothing is printed after the run ended');
  } finally {
    mock.timers.reset();
  }
});

const taskEnd = (host: string, task: string, outcome: 'ok' | 'failed'): RunEvent => ({
  type: 'task-end',
  host,
  index: 0,
  task,
  taskType: 'command',
  handler: false,
  outcome,
  changes: [],
  diff: [],
  ...(outcome === 'failed' ? { message: 'exit code 1' } : {}),
  durationMs: 1,
  timing: { probeMs: 0, planMs: 0, applyMs: 1 },
});

/** [what, events at their times (ms), when the frame is drawn, rows it may take, the frame]. */
const FRAMES: readonly [string, readonly [number, RunEvent][], number, number, string[]][] = [
  [
    'hosts done, the clock, each running task longest first',
    [
      [0, runStart(['lab1', 'lab22', 'lab3'])],
      [1_000, start('lab1', 'aptInstall dma')],
      [5_000, start('lab22', 'templateFile /etc/x')],
      [6_000, hostEnd('lab3')],
    ],
    65_400,
    5,
    [
      '1/3 hosts done · 1:05',
      '  lab1   aptInstall dma (64 s)',
      '  lab22  templateFile /etc/x (60 s)',
    ],
  ],
  [
    'failures as they happen, named; the rest counted when rows run out',
    [
      [0, runStart(['a', 'b', 'c', 'd'])],
      [0, start('a', 't1')],
      [0, start('b', 't1')],
      [0, start('c', 't1')],
      [1_000, taskEnd('d', 't0', 'failed')],
      [1_000, hostEnd('d')],
    ],
    3_700_000,
    2,
    ['1/4 hosts done · 1 failed (d) · 1:01:40', '  a  t1 (3700 s)', '  and 2 more running'],
  ],
];

for (const [what, events, at, rows, want] of FRAMES)
  test(`live frame: ${what}`, () => {
    const p = new Progress();
    for (const [t, e] of events) p.observe(e, t);
    assert.deepEqual(p.frame(at, rows), want);
  });

test('on a terminal, the live area sits under the output, is redrawn in place, and is gone at the end', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  // A real terminal emulator reads what was written: the screen a person would see (convertEol:
  // a tty's line discipline turns \n into \r\n).
  const term = new Terminal({ cols: 80, rows: 24, allowProposedApi: true, convertEol: true });
  let pending = Promise.resolve();
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        const data = chunk.toString();
        pending = pending.then(
          () =>
            new Promise<void>((res) => {
              term.write(data, res);
            }),
        );
        done();
      },
    }),
    { isTTY: true, columns: 80, rows: 24 },
  );
  const screen = async (): Promise<string[]> => {
    await new Promise((res) => setImmediate(res));
    await pending;
    const b = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    while (lines.at(-1) === '') lines.pop();
    return lines;
  };
  try {
    const report = terminalReporter(
      () => assert.fail('with a live area, output goes to the terminal'),
      new Redactor(),
      { diff: false, color: false, verbose: false, live: stream },
    );
    report(runStart(['lab1', 'lab2']));
    report(start('lab1', 'aptInstall dma'));
    report(start('lab2', 'command false'));
    mock.timers.tick(3_000);
    assert.deepEqual((await screen()).slice(1), [
      '0/2 hosts done · 0:03',
      '  lab1  aptInstall dma (3 s)',
      '  lab2  command false (3 s)',
    ]);
    // A failure: its line goes above the area, which now names the failed host.
    report(taskEnd('lab2', 'command false', 'failed'));
    report(hostEnd('lab2'));
    mock.timers.tick(1_000);
    assert.deepEqual((await screen()).slice(1), [
      'lab2      FAILED        command false',
      '    exit code 1',
      '1/2 hosts done · 1 failed (lab2) · 0:04',
      '  lab1  aptInstall dma (4 s)',
    ]);
    report(taskEnd('lab1', 'aptInstall dma', 'ok'));
    report(hostEnd('lab1'));
    report(runEnd(2));
    const end = await screen();
    assert.deepEqual(end.slice(1, 4), [
      'lab2      FAILED        command false',
      '    exit code 1',
      'lab1      ok            aptInstall dma',
    ]);
    assert.ok(!end.some((l) => l.includes('hosts done')), 'the live area is gone');
  } finally {
    mock.timers.reset();
    term.dispose();
  }
});
