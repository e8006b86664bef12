// Task results and host facts on a fresh lab host: a file made from a user's uid is `unknown` in
// check mode (the user does not exist yet), right in the real run, and ok from then on; a failed
// run rolls the user and the file back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, snapshot, taskEnds } from './helpers.ts';

const [HOST] = HOSTS.results;
let info: LabInfo;

before(async () => {
  info = await lab('results');
});

after(() => assertHealthy([HOST]));

function run(check: boolean, env: Record<string, string> = {}) {
  const args = ['run', 'test/e2e/playbooks/results.ts', '-i', info.inventoryPath];
  return fleetbook([...args, '--limit', HOST, '--json', ...(check ? ['--check'] : [])], env);
}

function outcomes(r: Awaited<ReturnType<typeof run>>): string[][] {
  return taskEnds(r).map((e) => [e.task, e.outcome, e.message ?? '']);
}

const touched = ['/etc/fb-fbresult.conf', '/var/opt/fbresult'];

test('four passes: unknown in check mode with the reason, made from the real uid when run', async () => {
  const before = await snapshot(HOST, touched);
  const c1 = await run(true);
  assert.equal(c1.code, 0, c1.stdout + c1.stderr);
  assert.deepEqual(outcomes(c1), [
    ['ensureUser fbresult', 'would-change', ''],
    [
      'withResult ensureUser fbresult',
      'unknown',
      'depends on the result of "ensureUser fbresult": check mode cannot know it before "ensureUser fbresult" has run',
    ],
  ]);
  assert.equal(await snapshot(HOST, touched), before, '--check changed the host');

  const a1 = await run(false);
  assert.equal(a1.code, 0, a1.stdout + a1.stderr);
  assert.deepEqual(
    outcomes(a1).map(([t, o]) => [t, o]),
    [
      ['ensureUser fbresult', 'changed'],
      ['copyFile /etc/fb-fbresult.conf', 'changed'],
    ],
  );
  const [uid, gid] = (await onHost(HOST, 'id -u fbresult; id -g fbresult')).trim().split('\n');
  assert.equal(
    await onHost(HOST, 'cat /etc/fb-fbresult.conf'),
    `uid=${uid}\ngid=${gid}\nhome=/var/opt/fbresult\nfqdn=${(await onHost(HOST, 'hostname -f')).trim()}\n`,
  );

  const c2 = await run(true);
  assert.deepEqual(
    outcomes(c2).map(([t, o]) => [t, o]),
    [
      ['ensureUser fbresult', 'ok'],
      ['copyFile /etc/fb-fbresult.conf', 'ok'],
    ],
  );
  const a2 = await run(false);
  assert.deepEqual(
    outcomes(a2).map(([t, o]) => [t, o]),
    [
      ['ensureUser fbresult', 'ok'],
      ['copyFile /etc/fb-fbresult.conf', 'ok'],
    ],
  );
  // The facts' read, one read of the tasks' state, and one of the file made from the result
  // (which task that is, is known only once the user's result is).
  const end = a2.events.find((e) => e.type === 'run-end');
  assert.ok(end?.type === 'run-end');
  assert.deepEqual(
    end.recap.map((h) => [h.host, h.changed, h.roundTrips]),
    [[HOST, 0, 3]],
  );
});

test('a failed run rolls back the user and the file made from its result', async () => {
  const paths = ['/etc/fb-fbrollback.conf', '/var/opt/fbrollback'];
  const before = await snapshot(HOST, paths);
  const r = await run(false, { FB_USER: 'fbrollback', FB_FAIL: '1' });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.deepEqual(
    outcomes(r).map(([t, o]) => [t, o]),
    [
      ['ensureUser fbrollback', 'changed'],
      ['copyFile /etc/fb-fbrollback.conf', 'changed'],
      ['command fail', 'failed'],
    ],
  );
  assert.equal(await snapshot(HOST, paths), before, 'the rollback left the host changed');
});
