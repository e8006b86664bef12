import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LabInfo } from '../../src/lab/index.ts';
import { assertHealthy, fleetbook, HOSTS, lab, onHost, snapshot, taskEnds } from './helpers.ts';

const [HOST] = HOSTS.fourPass;
let info: LabInfo;

before(async () => {
  info = await lab('fourPass');
});

// The host must be healthy after this file changed it, not merely "the task said ok".
after(() => assertHealthy([HOST]));

function run(fbCase: string, check: boolean) {
  const args = [
    'run',
    'test/e2e/playbooks/four-pass.ts',
    '-i',
    info.inventoryPath,
    '--limit',
    HOST,
    '--diff',
    '--json',
  ];
  return fleetbook(check ? [...args, '--check'] : args, {
    FB_CASE: fbCase,
    FLEETBOOK_TEMPLATES: 'test/fixtures/templates',
  });
}

/** check -> would change (with this diff); apply -> changed; check -> ok, no diff; apply -> ok. */
async function fourPasses(
  fbCase: string,
  diff: RegExp,
  touched: readonly string[],
  after: (host: string) => Promise<void>,
): Promise<void> {
  const before = await snapshot(HOST, touched);
  const c1 = await run(fbCase, true);
  assert.equal(c1.code, 0, c1.stdout + c1.stderr);
  const e1 = taskEnds(c1);
  assert.ok(e1.length > 0);
  assert.ok(
    e1.some((e) => e.outcome === 'would-change'),
    JSON.stringify(e1),
  );
  assert.ok(
    e1.every((e) => e.outcome === 'would-change'),
    JSON.stringify(e1.map((e) => [e.task, e.outcome, e.message])),
  );
  assert.match(JSON.stringify(e1.flatMap((e) => e.diff)), diff);
  assert.equal(await snapshot(HOST, touched), before, '--check changed the host');

  const a1 = await run(fbCase, false);
  assert.equal(a1.code, 0, a1.stdout + a1.stderr);
  assert.deepEqual(
    taskEnds(a1).map((e) => e.outcome),
    e1.map(() => 'changed'),
  );
  await after(HOST);

  const c2 = await run(fbCase, true);
  assert.equal(c2.code, 0);
  const e2 = taskEnds(c2);
  assert.ok(
    e2.every((e) => e.outcome === 'ok' && e.diff.length === 0),
    JSON.stringify(e2),
  );
  const a2 = await run(fbCase, false);
  assert.equal(a2.code, 0);
  assert.ok(
    taskEnds(a2).every((e) => e.outcome === 'ok'),
    JSON.stringify(taskEnds(a2)),
  );
}

test('ensureDir: parents, mode and owner', () =>
  fourPasses(
    'ensureDir',
    /directory \/srv\/fb-e2e\/data\/cache \(0750 www-data:www-data\)/,
    ['/srv/fb-e2e', '/srv/fb-e2e/data/cache'],
    async (h) => {
      assert.equal(
        (await onHost(h, 'stat -c "%a %U %G" /srv/fb-e2e/data/cache')).trim(),
        '750 www-data www-data',
      );
      assert.equal((await onHost(h, 'stat -c "%a %U" /srv/fb-e2e')).trim(), '755 root');
    },
  ));

test('ensureUser: a system user', () =>
  fourPasses('ensureUser', /user fbapp/, [], async (h) => {
    assert.match(
      await onHost(h, 'getent passwd fbapp'),
      /^fbapp:x:\d+:\d+::\/var\/opt\/fbapp:\/usr\/sbin\/nologin$/m,
    );
  }));

test('templateFile: rendered without HTML escaping, attributes set', () =>
  fourPasses(
    'templateFile',
    /\+server_name a&b\.example\.org;/,
    ['/etc/fb-site.conf'],
    async (h) => {
      assert.equal(
        await onHost(h, 'cat /etc/fb-site.conf'),
        '# managed by fleetbook for lab1 (development)\nserver_name a&b.example.org;\nupstream unix:/run/app.sock;\n',
      );
      assert.equal(
        (await onHost(h, 'stat -c "%a %U %G" /etc/fb-site.conf')).trim(),
        '640 root www-data',
      );
    },
  ));

test('copyFile: content', () =>
  fourPasses('copyFile', /\+hello from fleetbook/, ['/etc/fb-hello.txt'], async (h) => {
    assert.equal(await onHost(h, 'cat /etc/fb-hello.txt'), 'hello from fleetbook\n');
  }));

test('cronDaily: an executable job run-parts will run', () =>
  fourPasses(
    'cronDaily',
    /\/etc\/cron\.daily\/fb-e2e-job/,
    ['/etc/cron.daily/fb-e2e-job'],
    async (h) => {
      assert.match(
        await onHost(h, 'run-parts --test /etc/cron.daily'),
        /^\/etc\/cron\.daily\/fb-e2e-job$/m,
      );
    },
  ));

test('aptInstall: a package really installed with apt', () =>
  fourPasses('aptInstall', /package tree/, [], async (h) => {
    assert.match(await onHost(h, "dpkg-query -W -f='${Status}' tree"), /install ok installed/);
  }));

test('command: guarded by creates', () =>
  fourPasses('command', /echo built/, ['/var/tmp/fb-built'], async (h) => {
    assert.equal(await onHost(h, 'cat /var/tmp/fb-built'), 'built\n');
  }));

test('serviceRestart: runs once as a notified handler, and not when nothing changed', async () => {
  const pid = async () => (await onHost(HOST, 'systemctl show -p MainPID --value cron')).trim();
  const pid0 = await pid();
  await fourPasses('serviceRestart', /restart cron/, ['/etc/default/fb-cron-note'], async () => {
    assert.notEqual(await pid(), pid0, 'cron was not restarted');
  });
  const c = await run('serviceRestart', false);
  assert.ok(!taskEnds(c).some((e) => e.handler), 'handler ran without a change');
});
