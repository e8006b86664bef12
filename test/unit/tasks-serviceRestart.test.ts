import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  serviceRestart,
  activeCheck,
  DEFAULT_FAIL_PATTERN,
  parsePoll,
  restartChange,
  unitFilePaths,
} from '../../tasks/serviceRestart.ts';
import {
  ConfigError,
  TaskFailure,
  type Plan,
  type PlanContext,
  type RemoteShell,
  type ServiceFact,
  type Step,
} from '../../src/index.ts';
import { absent, file, hostView, planFrom, service } from './fixtures.ts';

const host = hostView({ name: 'lab3', address: '127.0.1.3' });
const notified: PlanContext = { host, notified: true };
const plain: PlanContext = { host, notified: false };

const present = (path: string) => file(path, '', { size: 10, sha256: 'x' }, 'none');

const svc = (over: Partial<ServiceFact> = {}): ServiceFact => service('cron', over);

/** The script of a run step. */
const act = (step: Step | undefined): string =>
  step?.op === 'run' ? step.script.text : assert.fail('expected a run step');

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
      assert.equal(c?.steps.length, 1);
      assert.equal(c?.steps[0]?.op === 'run' && c.steps[0].describe, 'restart cron');
      assert.match(act(c?.steps[0]), /\{ systemctl daemon-reload && systemctl restart -- cron; \}/);
      assert.deepEqual(c?.undo, []);
      // Replayed after a rollback, unless the rollback removed the unit.
      assert.deepEqual(
        c?.afterUndo?.map((s) => ({ ...s, onlyIf: undefined })),
        c?.steps.map((s) => ({ ...s, onlyIf: undefined })),
      );
      const guard = c?.afterUndo?.[0];
      assert.match(guard?.op === 'run' ? (guard.onlyIf?.text ?? '') : '', /FragmentPath -- "\$u"/);
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
      const script = act(p.changes[0]?.steps[0]);
      assert.match(script, /\{ systemctl daemon-reload && systemctl reload -- nginx; \}/);
      // nginx writes its errors to its own log, which the reload's proof reads from where it ended.
      assert.match(script, /fb_s0=\$\(stat -c %s -- \/var\/log\/nginx\/error\.log/);
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
      assert.match(act(p.changes[0]?.steps[0]), /\{ service cron restart; \}/);
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
      assert.match(
        act(p.status === 'change' ? p.changes[0]?.steps[0] : undefined),
        /\{ service legacy restart; \}/,
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
    exec({ text: script }) {
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

/**
 * The action script, run by the controller's /bin/sh against stand-ins for systemctl and
 * journalctl that do what a service would: exit with a status, log to its error log or journal.
 */
function runAction(
  action: 'reload' | 'restart',
  service: {
    rc?: number;
    /** A line the service appends to its error log while acting on the request. */
    logs?: string;
    /** What `journalctl -u` shows since the action; with `-p err`, only `journalErr`. */
    journal?: string;
    journalErr?: string;
    /** Already in the error log before the action. */
    before?: string;
    /** Whether the task knows the service's error log. */
    withLog?: boolean;
  } = {},
): { code: number; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fb-action-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'error.log');
  writeFileSync(log, service.before ?? '');
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake(
    'systemctl',
    `case "$1" in daemon-reload) exit 0 ;; esac\n[ -z "$FB_LOGS" ] || printf '%s\\n' "$FB_LOGS" >> "$FB_LOG"\n[ "$FB_RC" = 0 ] || echo "Job for nginx.service failed." >&2\nexit "$FB_RC"`,
  );
  fake(
    'journalctl',
    `for a in "$@"; do [ "$a" = -p ] && { printf '%s' "$FB_JERR"; exit 0; }; done\nprintf '%s' "$FB_J"`,
  );
  const change = restartChange('nginx', action, 'systemd', {
    settleSeconds: 0,
    logFiles: service.withLog === false ? [] : [log],
    failPattern: DEFAULT_FAIL_PATTERN,
  });
  const step = change.steps[0];
  const r = spawnSync('/bin/sh', ['-c', act(step)], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      FB_LOG: log,
      FB_LOGS: service.logs ?? '',
      FB_RC: String(service.rc ?? 0),
      FB_J: service.journal ?? '',
      FB_JERR: service.journalErr ?? '',
    },
  });
  return { code: r.status ?? 255, stderr: r.stderr };
}

test('a reload is proven by what the service logged, not by "active"', () => {
  assert.equal(runAction('reload').code, 0, 'nothing logged: taken');
  assert.equal(runAction('reload', { withLog: false }).code, 0, 'a service with no log file');
  assert.equal(runAction('restart', { withLog: false, journalErr: 'x: fatal\n' }).code, 5);
  // nginx after `listen 80` became `listen 192.0.2.1:80`: the reload signal is accepted, the new
  // configuration is not, and only error.log says so.
  const bind =
    '2026/12/02 01:20:00 [emerg] 1234#1234: bind() to 192.0.2.1:80 failed (99: Cannot assign requested address)';
  const refused = runAction('reload', { logs: bind });
  assert.equal(refused.code, 5);
  assert.match(refused.stderr, /bind\(\) to 192\.0\.2\.1:80 failed/);
  assert.match(
    refused.stderr,
    /nginx logged errors after the reload \(above\); it may still run its old configuration/,
  );
  assert.equal(
    runAction('reload', { before: `${bind}\n` }).code,
    0,
    'an error logged before the reload is not this reload’s',
  );
  const journal = runAction('reload', {
    journal: '2026-12-02T01:20:00+0000 lab1 app[9]: error: config rejected\n',
  });
  assert.equal(journal.code, 5);
  assert.match(journal.stderr, /config rejected/);
  const rejected = runAction('reload', { rc: 1 });
  assert.equal(rejected.code, 1, 'ExecReload failed: systemctl says so');
  assert.match(rejected.stderr, /Job for nginx\.service failed/);
});

test('a restart fails on error-priority journal lines, not on a word in an ordinary one', () => {
  assert.equal(
    runAction('restart', { journal: '... app[9]: 0 errors while loading plugins\n' }).code,
    0,
  );
  const died = runAction('restart', { journalErr: '... app[9]: cannot open /etc/app.conf\n' });
  assert.equal(died.code, 5);
  assert.match(died.stderr, /cannot open \/etc\/app\.conf/);
});
