import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, taskEnds } from './helpers.ts';

// ensureService against real systemd: the unit's state comes from the batched `systemctl show`.
const [HOST] = HOSTS.service;
let info: LabInfo;

before(async () => {
  info = await lab('service');
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy([HOST]));

function run(args: readonly string[], env: Record<string, string> = {}) {
  return fleetbook(
    [
      'run',
      'test/e2e/playbooks/service.ts',
      '-i',
      info.inventoryPath,
      '--limit',
      HOST,
      '--json',
      ...args,
    ],
    env,
  );
}

async function unitState(): Promise<string> {
  return (
    await onHost(
      HOST,
      'systemctl is-active fb-sleep.service || true; systemctl is-enabled fb-sleep.service 2>&1 || true; ls /etc/systemd/system/fb-sleep.service 2>&1 || true',
    )
  ).trim();
}

async function reset(): Promise<void> {
  await onHost(
    HOST,
    'systemctl disable --now fb-sleep.service >/dev/null 2>&1; rm -f /etc/systemd/system/fb-sleep.service; systemctl daemon-reload',
  );
}

test('a failed run stops, disables and removes what it started, enabled and wrote', async () => {
  await reset();
  const before = await unitState();
  const r = await run([], { FB_FAIL: '1' });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.deepEqual(
    taskEnds(r, HOST).map((e) => e.outcome),
    ['changed', 'changed', 'failed'],
  );
  assert.equal(await unitState(), before);
  assert.match(before, /^inactive\n.*\n.*No such file/s);
});

test('started and enabled; the next run changes nothing; --check after a stop says it would start it', async () => {
  await reset();
  const first = await run([]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const svc = taskEnds(first, HOST)[1];
  assert.equal(svc?.outcome, 'changed');
  assert.deepEqual(svc?.changes, ['enable fb-sleep.service, start fb-sleep.service']);
  assert.match(await unitState(), /^active\nenabled\n/);

  const again = await run([]);
  assert.deepEqual(
    taskEnds(again, HOST).map((e) => e.outcome),
    ['ok', 'ok'],
  );

  await onHost(HOST, 'systemctl stop fb-sleep.service');
  const check = await run(['--check', '--diff']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const planned = taskEnds(check, HOST)[1];
  assert.equal(planned?.outcome, 'would-change');
  assert.deepEqual(planned?.changes, ['start fb-sleep.service']);
  assert.match(await unitState(), /^inactive\n/, '--check changed nothing');
  await reset();
});
