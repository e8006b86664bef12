// serviceRestart proves a reload took: nginx accepts the reload signal and keeps its old
// configuration when the new one cannot bind, and only its error log says so. On this file's host
// lab16 (reset first; HOSTS in helpers.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, taskEnds } from './helpers.ts';

const [HOST] = HOSTS.reload;
let info: LabInfo;
let address: string;

before(async () => {
  info = await lab('reload');
  address = info.hosts.find((h) => h.name === HOST)?.address ?? assert.fail(`no ${HOST}`);
  // nginx installed without starting it (policy-rc.d), so its default site never binds *:80 on
  // the machine the lab hosts share; then started on this host's own address.
  await onHost(
    HOST,
    "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && " +
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null && ' +
      'rm /usr/sbin/policy-rc.d /etc/nginx/sites-enabled/default && ' +
      `printf 'server {\\n  listen ${address}:80;\\n  location / { return 200 "fleetbook\\\\n"; }\\n}\\n' > /etc/nginx/conf.d/fleetbook.conf && ` +
      'systemctl start nginx',
  );
});

after(() => assertHealthy([HOST]));

function run(listen: string) {
  return fleetbook(
    ['run', 'test/e2e/playbooks/reload.ts', '-i', info.inventoryPath, '--limit', HOST, '--json'],
    {
      FB_LISTEN: listen,
    },
  );
}

test('a reload nginx refused fails the task with its error log lines, and rollback puts the old site back', async () => {
  const same = await run(address);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.deepEqual(
    taskEnds(same, HOST).map((e) => e.outcome),
    ['ok'],
  );
  const r = await run('192.0.2.1');
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const [write, reload] = taskEnds(r, HOST);
  assert.equal(write?.outcome, 'changed');
  assert.equal(reload?.outcome, 'failed', JSON.stringify(reload));
  assert.match(reload?.details ?? '', /bind\(\) to 192\.0\.2\.1:80 failed/);
  assert.match(reload?.details ?? '', /it may still run its old configuration/);
  // Rolled back: the old site is on disk and, reloaded again, answers on its address.
  assert.match(
    await onHost(HOST, 'cat /etc/nginx/conf.d/fleetbook.conf'),
    new RegExp(`listen ${address.replace(/\./g, '\\.')}:80;`),
  );
  assert.equal(
    (
      await onHost(
        HOST,
        `python3 -c "import urllib.request; print(urllib.request.urlopen('http://${address}/').read().decode().strip())"`,
      )
    ).trim(),
    'fleetbook',
  );
});
