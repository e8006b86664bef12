import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  serviceRestart,
  activeCheck,
  parsePoll,
  unitFilePaths,
} from '../../tasks/serviceRestart.ts';
import {
  ConfigError,
  TaskFailure,
  type Plan,
  type PlanContext,
  type RemoteShell,
  type ServiceFact,
} from '../../src/index.ts';
import { absent, file, hostView, planFrom, service } from './fixtures.ts';

const host = hostView({ name: 'lab3', address: '127.0.1.3' });
const notified: PlanContext = { host, notified: true };
const plain: PlanContext = { host, notified: false };

const present = (path: string) => file(path, '', { size: 10, sha256: 'x' }, 'none');

const svc = (over: Partial<ServiceFact> = {}): ServiceFact => service('cron', over);

/** Facts for every query the task's probe names: the given service fact, unit files absent unless listed. */
function plan(
  params: Parameters<typeof serviceRestart>[0],
  ctx: PlanContext,
  service: ServiceFact,
  files: string[] = [],
): Plan {
  return planFrom(
    serviceRestart(params),
    undefined,
    (q) => {
      if (q.kind === 'service') return service;
      if (q.kind === 'file') return files.includes(q.path) ? present(q.path) : absent(q.path);
      return undefined;
    },
    ctx,
  );
}

test('probe reads the service and every place its unit file may be', () => {
  const spec = serviceRestart({ name: 'cron' }).probe(undefined);
  const queries = Object.values(spec);
  assert.deepEqual(
    queries.find((q) => q.kind === 'service'),
    { kind: 'service', name: 'cron' },
  );
  assert.deepEqual(
    queries.filter((q) => q.kind === 'file').map((q) => (q.kind === 'file' ? q.path : '')),
    [
      '/etc/systemd/system/cron.service',
      '/lib/systemd/system/cron.service',
      '/usr/lib/systemd/system/cron.service',
      '/etc/init.d/cron',
    ],
  );
  assert.deepEqual(unitFilePaths('app.service'), unitFilePaths('app'));
});

test('params are checked when the task is built', () => {
  assert.throws(() => serviceRestart({ name: 'cron; rm -rf /' }), ConfigError);
  assert.throws(() => serviceRestart({ name: 'cron', action: 'stop' as 'restart' }), ConfigError);
  const misspelled = () =>
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    serviceRestart({ name: 'cron', forse: true });
  assert.throws(misspelled, /unknown field.*did you mean "force"/);
});

const cases: Array<{
  what: string;
  params: Parameters<typeof serviceRestart>[0];
  ctx: PlanContext;
  service: ServiceFact;
  files?: string[];
  expect: (p: Plan) => void;
}> = [
  {
    what: 'not notified, not forced -> ok "not notified"',
    params: { name: 'cron' },
    ctx: plain,
    service: svc(),
    expect: (p) => {
      assert.deepEqual(p, { status: 'ok', note: 'not notified' });
    },
  },
  {
    what: 'not notified and not installed -> still ok (a handler that never fires says nothing)',
    params: { name: 'app' },
    ctx: plain,
    service: svc({ name: 'app', exists: false, active: 'inactive', enabled: '' }),
    expect: (p) => {
      assert.equal(p.status, 'ok');
    },
  },
  {
    what: 'forced -> restart with daemon-reload',
    params: { name: 'cron', force: true },
    ctx: plain,
    service: svc(),
    expect: (p) => {
      assert.equal(p.status, 'change');
      if (p.status !== 'change') return;
      const [c] = p.changes;
      assert.deepEqual(c?.diff, [{ kind: 'item', sign: '~', text: 'restart cron' }]);
      assert.deepEqual(c?.steps, [
        {
          op: 'run',
          describe: 'restart cron',
          script: 'systemctl daemon-reload && systemctl restart -- cron',
        },
      ]);
      assert.deepEqual(c?.undo, []);
      assert.deepEqual(c?.effects, [
        { kind: 'service', fact: { name: 'cron', exists: true, active: 'active' } },
      ]);
      assert.equal(p.verify?.length, 1);
      assert.equal(p.verify?.[0]?.describe, 'check that cron is active');
    },
  },
  {
    what: 'notified reload -> systemctl reload',
    params: { name: 'nginx', action: 'reload' },
    ctx: notified,
    service: svc({ name: 'nginx' }),
    expect: (p) => {
      assert.equal(p.status, 'change');
      if (p.status !== 'change') return;
      assert.deepEqual(p.changes[0]?.diff, [{ kind: 'item', sign: '~', text: 'reload nginx' }]);
      assert.equal(
        p.changes[0]?.steps[0]?.op === 'run' && p.changes[0].steps[0].script,
        'systemctl daemon-reload && systemctl reload -- nginx',
      );
    },
  },
  {
    what: 'check mode: only the unit file an earlier task would write -> would restart',
    params: { name: 'app' },
    ctx: notified,
    service: svc({ name: 'app', exists: false, active: 'inactive', enabled: '' }),
    files: ['/etc/systemd/system/app.service'],
    expect: (p) => {
      assert.equal(p.status, 'change');
      if (p.status !== 'change') return;
      assert.deepEqual(p.changes[0]?.diff, [{ kind: 'item', sign: '~', text: 'restart app' }]);
    },
  },
  {
    what: 'nothing installed -> unknown with the reason (not a false failure in check mode)',
    params: { name: 'app' },
    ctx: notified,
    service: svc({ name: 'app', exists: false, active: 'inactive', enabled: '' }),
    expect: (p) => {
      assert.equal(p.status, 'unknown');
      if (p.status !== 'unknown') return;
      assert.match(p.reason, /^service app is not installed yet/);
      assert.match(p.reason, /an earlier task may install it/);
      assert.match(p.reason, /\/etc\/init\.d\/app/);
    },
  },
  {
    what: 'sysv host with an init script -> service NAME restart',
    params: { name: 'cron', force: true },
    ctx: plain,
    service: svc({ manager: 'sysv', active: 'active', enabled: '' }),
    files: ['/etc/init.d/cron'],
    expect: (p) => {
      assert.equal(p.status, 'change');
      if (p.status !== 'change') return;
      assert.deepEqual(p.changes[0]?.steps, [
        { op: 'run', describe: 'restart cron', script: 'service cron restart' },
      ]);
    },
  },
  {
    what: 'no init system, init script about to be written -> sysv restart',
    params: { name: 'legacy', force: true },
    ctx: plain,
    service: {
      name: 'legacy',
      manager: 'none',
      exists: false,
      active: 'inactive',
      enabled: '',
      needsDaemonReload: false,
    },
    files: ['/etc/init.d/legacy'],
    expect: (p) => {
      assert.equal(
        p.status === 'change' &&
          p.changes[0]?.steps[0]?.op === 'run' &&
          p.changes[0].steps[0].script,
        'service legacy restart',
      );
    },
  },
  {
    what: 'systemd unit on a host without systemd -> fail',
    params: { name: 'app', force: true },
    ctx: plain,
    service: {
      name: 'app',
      manager: 'none',
      exists: false,
      active: 'inactive',
      enabled: '',
      needsDaemonReload: false,
    },
    files: ['/lib/systemd/system/app.service'],
    expect: (p) => {
      assert.equal(p.status, 'fail');
    },
  },
  {
    what: 'masked unit -> fail, not a restart that systemctl refuses',
    params: { name: 'app', force: true },
    ctx: plain,
    service: svc({ name: 'app', exists: false, active: 'inactive', enabled: 'masked' }),
    files: ['/etc/systemd/system/app.service'],
    expect: (p) => {
      assert.deepEqual(p, {
        status: 'fail',
        message: 'service app is masked; unmask it before it can be restarted',
      });
    },
  },
];

for (const c of cases) {
  test(`plan: ${c.what}`, () => {
    c.expect(plan(c.params, c.ctx, c.service, c.files));
  });
}

test('parsePoll reads is-active and NRestarts', () => {
  assert.deepEqual(parsePoll('active\n0\n'), { state: 'active', restarts: 0 });
  assert.deepEqual(parsePoll('activating\n3\n'), { state: 'activating', restarts: 3 });
  assert.deepEqual(parsePoll('failed\n\n'), { state: 'failed', restarts: null });
  assert.deepEqual(parsePoll(''), { state: 'unknown', restarts: null });
});

/** A RemoteShell that answers the poll with the next scripted state and records every script. */
// Real `journalctl -u fbfail -n 20 --no-pager -o short` of a unit on lab3 that exits 1 a second after start.
const FAILED_JOURNAL = [
  'Nov 21 05:30:23 lab3 systemd[1]: Started fbfail.service - fleetbook test: exits 1 after a second.',
  'Nov 21 05:30:23 lab3 sh[1613]: starting fbfail',
  'Nov 21 05:30:24 lab3 sh[1613]: fbfail: config broken',
  'Nov 21 05:30:24 lab3 systemd[1]: fbfail.service: Main process exited, code=exited, status=1/FAILURE',
  "Nov 21 05:30:24 lab3 systemd[1]: fbfail.service: Failed with result 'exit-code'.",
  '',
].join('\n');

function scripted(states: string[], journal = FAILED_JOURNAL) {
  const scripts: string[] = [];
  let t = 0;
  const shell: RemoteShell = {
    exec(script) {
      scripts.push(script);
      if (script.startsWith('journalctl'))
        return Promise.resolve({ code: 0, stdout: journal, stderr: '' });
      const s = states.length > 1 ? states.shift() : states[0];
      return Promise.resolve({ code: 0, stdout: `${s ?? ''}\n`, stderr: '' });
    },
  };
  const clock = { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
  return { shell, scripts, clock, elapsed: () => t };
}

test('verify: activating then active (and stays) -> passes', async () => {
  const s = scripted(['activating\n0', 'activating\n0', 'active\n0', 'active\n0', 'active\n0']);
  const note = await activeCheck('app', 'systemd', 30, s.clock).run(s.shell);
  assert.match(note ?? '', /^app is active after/);
  assert.ok(s.scripts.every((x) => !x.startsWith('journalctl')));
});

test('verify: failed -> TaskFailure at once with the last 20 journal lines', async () => {
  const s = scripted(['failed\n0']);
  const err = await activeCheck('app', 'systemd', 30, s.clock)
    .run(s.shell)
    .then(
      () => assert.fail('should fail'),
      (e: unknown) => e,
    );
  assert.ok(err instanceof TaskFailure);
  assert.match(err.message, /^service app is not active: it is "failed"/);
  assert.match(err.details ?? '', /^last 20 journal lines of app:\n.*Started fbfail/);
  assert.match(err.details ?? '', /fbfail: config broken/);
  assert.ok(s.scripts.includes('journalctl -u app -n 20 --no-pager -o short 2>&1'));
  assert.ok(s.elapsed() < 1000, 'a failed unit is reported without waiting for the timeout');
});

test('verify: crash loop (active, then auto-restart) never settles -> fails at the timeout', async () => {
  // NRestarts grows on every "active" sample: systemd keeps restarting it.
  let n = 0;
  const states = Array.from({ length: 200 }, (_, i) =>
    i % 2 === 0 ? `active\n${n++}` : `activating\n${n}`,
  );
  const s = scripted(states);
  const err = await activeCheck('app', 'systemd', 5, s.clock)
    .run(s.shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.match(err.message, /not active/);
  assert.ok(s.elapsed() >= 5000);
});

test('verify: stuck in activating -> fails after activeTimeoutSeconds, naming the state', async () => {
  const s = scripted(['activating\n0']);
  const err = await activeCheck('app', 'systemd', 3, s.clock)
    .run(s.shell)
    .catch((e: unknown) => e);
  assert.ok(err instanceof TaskFailure);
  assert.match(err.message, /still "activating" after 3\.0s \(activeTimeoutSeconds 3\)/);
});
