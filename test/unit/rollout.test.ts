import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batches, batchStopsRollout, parseSerial } from '../../src/runner/rollout.ts';

test('--max-fail-percent stops a rollout only when failures are strictly more than P% of a batch', () => {
  const cases: [failed: number, size: number, max: number | undefined, stops: boolean][] = [
    [0, 5, 20, false],
    [1, 5, 20, false], // exactly 20%: not more than 20%
    [2, 5, 20, true], // 40% > 20%
    [1, 5, 0, true], // any failure
    [0, 5, 0, false],
    [5, 5, 100, false], // 100% is never more than 100%
    [1, 3, 33, true], // 33.3% > 33
    [1, 3, 34, false],
    // Without --max-fail-percent, as Ansible: only a batch where every host failed stops it.
    [4, 5, undefined, false],
    [5, 5, undefined, true],
    [0, 0, undefined, false],
  ];
  for (const [failed, size, max, stops] of cases) {
    assert.equal(
      batchStopsRollout(failed, size, max),
      stops,
      `${failed}/${size} with max ${String(max)}`,
    );
  }
});

test('--serial splits hosts into batches; percentages round up', () => {
  const hosts = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.deepEqual(
    batches(hosts, parseSerial('5')).map((b) => b.length),
    [5, 5, 5, 5],
  );
  assert.deepEqual(
    batches(hosts, parseSerial('30%')).map((b) => b.length),
    [6, 6, 6, 2],
  );
  assert.deepEqual(
    batches([1, 2, 3], parseSerial('10%')).map((b) => b.length),
    [1, 1, 1],
  );
  assert.deepEqual(
    batches(hosts, undefined).map((b) => b.length),
    [20],
  );
  assert.deepEqual(batches(hosts, parseSerial('7'))[2], [15, 16, 17, 18, 19, 20]);
  for (const bad of ['0', '-1', '101%', 'five', ''])
    assert.throws(() => parseSerial(bad), /--serial/);
});
