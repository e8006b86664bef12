import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun } from '../../src/runner/prepare-run.ts';
import { listTasks, syntaxCheck } from '../../src/runner/inspect.ts';
import type { HostRecap, TaskEndEvent } from '../../src/runner/events.ts';
import { runLocal, templatesDir } from './fixtures.ts';

// A playbook that reads host facts, on the controller itself (connection: local): the facts are
// the controller's, so the test knows them from node:os.
const work = mkdtempSync(join(tmpdir(), 'fb-facts-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'environment: development\nhosts:\n  self: { connection: local }\n');
process.env.FLEETBOOK_STATE_DIR = join(work, 'state');
process.env.FLEETBOOK_TEMPLATES = templatesDir;
process.env.FB_DIR = work;
const playbook = 'test/fixtures/playbooks/local-facts.ts';

async function run(check: boolean): Promise<{ ends: TaskEndEvent[]; recap: HostRecap }> {
  const r = await runLocal(playbook, inventory, check);
  assert.equal(r.exitCode, 0);
  const [recap] = r.recap;
  assert.ok(recap !== undefined);
  return { ends: r.ends, recap };
}

test('facts reach task params, conditions and templates, in check mode and in a real run', async () => {
  const c1 = await run(true);
  // the condition on os.id left its task out
  assert.deepEqual(
    c1.ends.map((e) => [e.task, e.outcome]),
    [
      [`ensureDir ${work}/facts`, 'would-change'],
      [`copyFile ${work}/facts/params`, 'would-change'],
      [`templateFile ${work}/facts/template`, 'would-change'],
    ],
  );
  assert.throws(() => statSync(join(work, 'facts')), /ENOENT/, '--check created the directory');
  await run(false);
  assert.equal(
    readFileSync(join(work, 'facts/params'), 'utf8'),
    `kernel=${release()}\ncpus=${availableParallelism()}\n`,
  );
  assert.equal(
    readFileSync(join(work, 'facts/template'), 'utf8'),
    `hostname=${hostname()}\nos=${/^ID=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? ''}\n`,
  );
  const again = await run(true);
  assert.deepEqual(
    again.ends.map((e) => e.outcome),
    ['ok', 'ok', 'ok'],
  );
  // read once, in the session's first round trip; then the one probe round trip
  assert.equal(again.recap.roundTrips, 2);
});

test('--syntax-check and --list-tasks say the tasks come from facts, and contact nothing', async () => {
  const r = await prepareRun({ playbook, inventory, check: true }, { connecting: false });
  assert.equal(r.prepared.size, 0);
  assert.match(
    syntaxCheck(r),
    /vars and secrets validated; tasks not validated: made from host facts/,
  );
  assert.match(listTasks(r), /tasks: made from host facts when the playbook runs/);
});
