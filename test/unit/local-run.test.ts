import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlaybook } from '../../src/runner/run.ts';
import type { RunEvent, TaskEndEvent } from '../../src/runner/events.ts';

// The whole runner — validation, probe, plan, check-mode simulation, atomic writes, journal —
// on the controller itself through the local transport: fast, and no lab needed.
const work = mkdtempSync(join(tmpdir(), 'fb-local-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'environment: development\nhosts:\n  self: { connection: local }\n');
process.env.FLEETBOOK_STATE_DIR = join(work, 'state');

async function run(
  check: boolean,
  value: string,
): Promise<{ ends: TaskEndEvent[]; exitCode: number }> {
  process.env.FB_DIR = work;
  process.env.FB_VALUE = value;
  const events: RunEvent[] = [];
  const r = await runPlaybook(
    {
      playbook: 'test/fixtures/playbooks/local-files.ts',
      inventory,
      check,
      forks: 1,
      rollback: true,
      acceptNewHostKeys: false,
    },
    (e) => events.push(e),
  );
  return {
    ends: events.filter((e): e is TaskEndEvent => e.type === 'task-end'),
    exitCode: r.exitCode,
  };
}

test('four passes through the local transport, with a diff of the changed line', async () => {
  const c1 = await run(true, '1');
  assert.deepEqual(
    c1.ends.map((e) => e.outcome),
    ['would-change', 'would-change'],
  );
  assert.throws(() => statSync(join(work, 'conf')), /ENOENT/, '--check created the directory');
  const a1 = await run(false, '1');
  assert.deepEqual(
    a1.ends.map((e) => e.outcome),
    ['changed', 'changed'],
  );
  assert.equal(readFileSync(join(work, 'conf/app.ini'), 'utf8'), 'value = 1\n');
  assert.equal(statSync(join(work, 'conf/app.ini')).mode & 0o777, 0o640);
  assert.equal(statSync(join(work, 'conf')).mode & 0o777, 0o750);
  const c2 = await run(true, '1');
  assert.deepEqual(
    c2.ends.map((e) => e.outcome),
    ['ok', 'ok'],
  );
  const c3 = await run(true, '2');
  assert.deepEqual(
    c3.ends.map((e) => e.outcome),
    ['ok', 'would-change'],
  );
  const diff = c3.ends[1]?.diff[0];
  assert.ok(diff?.kind === 'file');
  assert.match(diff.unified, /^-value = 1\n\+value = 2$/m);
  assert.match(diff.unified, /^--- self:.*\/conf\/app\.ini\t\(before\)$/m);
});
