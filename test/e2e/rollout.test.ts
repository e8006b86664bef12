import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labSsh, labStartHost, labStopHost, type LabInfo } from '../../src/lab/index.ts';
import type { RunEvent } from '../../src/runner/events.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, taskEnds } from './helpers.ts';

let info: LabInfo;

before(async () => {
  // Its 20 hosts are its own (HOSTS in helpers.ts); it removes its marker files itself, so
  // rebooting 20 fresh hosts is not needed.
  info = await lab('rollout', { reset: false });
});

/** This file's hosts, 1-based as a person counts them: at(1) is the first. */
const all = HOSTS.rollout;
const names = (from: number, to: number): string[] => all.slice(from - 1, to);
const at = (i: number): string => all[i - 1] ?? assert.fail(`no host ${i}`);

after(() => assertHealthy(all));

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
    FB_FAIL_HOSTS: `${at(7)},${at(9)}`,
    FB_TAG: 'serial',
  });
  assert.equal(r.code, 2, r.stderr);
  const end = runEnd(r.events);
  assert.deepEqual([...end.notStarted].sort(), names(11, 20).sort());
  assert.match(end.stopped ?? '', /2 of 5 hosts in a batch failed \(40% > --max-fail-percent 20\)/);
  assert.deepEqual(end.recap.map((x) => x.host).sort(), names(1, 10).sort());
  for (const h of names(11, 20)) assert.equal(taskEnds(r, h).length, 0, `${h} was touched`);
  assert.equal(
    (await onHost(at(12), 'cat /var/tmp/fb-rollout.txt 2>/dev/null || echo absent')).trim(),
    'absent',
  );
  assert.equal((await onHost(at(3), 'cat /var/tmp/fb-rollout.txt')).trim(), 'rollout serial');
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
    { FB_FAIL_HOSTS: `${at(7)},${at(9)}`, FB_TAG: 'serial' },
  );
  assert.ok(human.stdout.includes(`never started: ${names(11, 20).join(', ')}`), human.stdout);
});

/** Once the rollout playbook's slow step (`sleep 4`) runs on the host. */
async function inSlowStep(host: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await labSsh(
      host,
      `for p in /proc/[0-9]*; do [ "$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)" = 'sleep 4 ' ] && echo found; done; true`,
    );
    if (r.stdout.includes('found')) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`${host} never reached the slow step`);
}

test('hosts killed mid-run are unreachable, not failed; --retry converges them; then nothing changes', async () => {
  const hosts = names(1, 10);
  await Promise.all(
    hosts.map((h) => onHost(h, 'rm -f /var/tmp/fb-rollout.txt /var/tmp/fb-rollout-slept')),
  );
  const running = run(['--limit', hosts.join(',')], { FB_SLOW_SECONDS: '4', FB_TAG: 'kill' });
  // Killed while the slow change runs on them (a fixed wait missed it on a loaded machine).
  await Promise.all([inSlowStep(at(9)), inSlowStep(at(10))]);
  await Promise.all([labStopHost(at(9)), labStopHost(at(10))]);
  const r = await running.finally(() => Promise.all([labStartHost(at(9)), labStartHost(at(10))]));
  assert.equal(r.code, 4, r.stdout + r.stderr);
  const end = runEnd(r.events);
  for (const x of end.recap) {
    if (x.host === at(9) || x.host === at(10)) {
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
  const retry = await run(['--limit', hosts.join(','), '--retry'], {
    FB_SLOW_SECONDS: '4',
    FB_TAG: 'kill',
  });
  assert.equal(retry.code, 0, retry.stdout + retry.stderr);
  assert.deepEqual(
    runEnd(retry.events)
      .recap.map((x) => x.host)
      .sort(),
    [at(10), at(9)].sort(),
  );
  const again = await run(['--limit', hosts.join(',')], { FB_SLOW_SECONDS: '4', FB_TAG: 'kill' });
  assert.equal(again.code, 0);
  assert.ok(
    runEnd(again.events).recap.every((x) => x.changed === 0 && x.ok > 0),
    JSON.stringify(runEnd(again.events).recap),
  );
});
