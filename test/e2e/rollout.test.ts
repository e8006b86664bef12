import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labStartHost, labStopHost, type LabInfo } from '../../src/lab/index.ts';
import type { RunEvent } from '../../src/runner/events.ts';
import { fleetbook, lab, onHost, taskEnds } from './helpers.ts';

let info: LabInfo;

before(async () => {
  info = await lab(20);
});

const names = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `lab${from + i}`);

function run(args: readonly string[], env: Record<string, string> = {}) {
  return fleetbook(
    ['run', 'test/e2e/playbooks/rollout.ts', '-i', info.inventoryPath, '--json', ...args],
    env,
  );
}

function runEnd(events: RunEvent[]) {
  const e = events.find((x) => x.type === 'run-end');
  assert.ok(e?.type === 'run-end');
  return e;
}

test('--serial 5 --max-fail-percent 20: 2 failures in batch 2 stop the rollout; batches 3 and 4 never start', async () => {
  const hosts = names(1, 20);
  await Promise.all(
    hosts.map((h) => onHost(h, 'rm -f /var/tmp/fb-rollout.txt /var/tmp/fb-rollout-slept')),
  );
  // The lab may have more hosts than these 20 (other test files grow it): limit to them.
  const r = await run(['--limit', hosts.join(','), '--serial', '5', '--max-fail-percent', '20'], {
    FB_FAIL_HOSTS: 'lab7,lab9',
    FB_TAG: 'serial',
  });
  assert.equal(r.code, 2, r.stderr);
  const end = runEnd(r.events);
  assert.deepEqual([...end.notStarted].sort(), names(11, 20).sort());
  assert.match(end.stopped ?? '', /2 of 5 hosts in a batch failed \(40% > --max-fail-percent 20\)/);
  assert.deepEqual(end.recap.map((x) => x.host).sort(), names(1, 10).sort());
  for (const h of names(11, 20)) assert.equal(taskEnds(r, h).length, 0, `${h} was touched`);
  assert.equal(
    (await onHost('lab12', 'cat /var/tmp/fb-rollout.txt 2>/dev/null || echo absent')).trim(),
    'absent',
  );
  assert.equal((await onHost('lab3', 'cat /var/tmp/fb-rollout.txt')).trim(), 'rollout serial');
  const human = await fleetbook(
    [
      'run',
      'test/e2e/playbooks/rollout.ts',
      '-i',
      info.inventoryPath,
      '--limit',
      hosts.join(','),
      '--serial',
      '5',
      '--max-fail-percent',
      '20',
    ],
    { FB_FAIL_HOSTS: 'lab7,lab9', FB_TAG: 'serial' },
  );
  assert.match(human.stdout, /never started: lab11, lab12, .*lab20/);
});

test('hosts killed mid-run are unreachable, not failed; --retry converges them; then nothing changes', async () => {
  const hosts = names(1, 10);
  await Promise.all(
    hosts.map((h) => onHost(h, 'rm -f /var/tmp/fb-rollout.txt /var/tmp/fb-rollout-slept')),
  );
  const running = run(['--limit', hosts.join(',')], { FB_SLOW_SECONDS: '4', FB_TAG: 'kill' });
  await new Promise((res) => setTimeout(res, 2500));
  await Promise.all([labStopHost('lab9'), labStopHost('lab10')]);
  const r = await running;
  assert.equal(r.code, 4, r.stdout + r.stderr);
  const end = runEnd(r.events);
  for (const x of end.recap) {
    if (x.host === 'lab9' || x.host === 'lab10') {
      assert.equal(x.unreachable, true, x.host);
      assert.equal(x.failed, 0, x.host);
      const last = taskEnds(r, x.host).at(-1);
      assert.equal(last?.outcome, 'unreachable');
      // Whether the interrupted change landed is re-checked, not guessed.
      assert.match(
        last?.message ?? '',
        /lost: .*; (could not reconnect to re-check|re-checked after reconnecting)/,
        x.host,
      );
    } else {
      assert.equal(x.unreachable, false, x.host);
      assert.equal(x.failed, 0, x.host);
    }
  }
  await Promise.all([labStartHost('lab9'), labStartHost('lab10')]);
  const retry = await run(['--limit', hosts.join(','), '--retry'], {
    FB_SLOW_SECONDS: '4',
    FB_TAG: 'kill',
  });
  assert.equal(retry.code, 0, retry.stdout + retry.stderr);
  assert.deepEqual(
    runEnd(retry.events)
      .recap.map((x) => x.host)
      .sort(),
    ['lab10', 'lab9'],
  );
  const again = await run(['--limit', hosts.join(',')], { FB_SLOW_SECONDS: '4', FB_TAG: 'kill' });
  assert.equal(again.code, 0);
  assert.ok(
    runEnd(again.events).recap.every((x) => x.changed === 0 && x.ok > 0),
    JSON.stringify(runEnd(again.events).recap),
  );
});
