import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureService } from '../../tasks/ensureService.ts';
import { ConfigError, type Plan, type ServiceFact } from '../../src/index.ts';
import { absent, file, planFrom, service } from './fixtures.ts';

const svc = (over: Partial<ServiceFact> = {}): ServiceFact => service('app.service', over);

/** The plan for params on a host with this service fact and these unit files. */
function plan(
  params: Parameters<typeof ensureService>[0],
  service: ServiceFact,
  files: string[] = [],
): Plan {
  return planFrom(ensureService(params), undefined, (q) =>
    q.kind === 'service'
      ? service
      : q.kind === 'file'
        ? files.includes(q.path)
          ? file(q.path, '[Unit]\n', {}, 'none')
          : absent(q.path)
        : undefined,
  );
}

const scripts = (p: Plan, which: 'steps' | 'undo'): string[] =>
  p.status === 'change'
    ? p.changes.flatMap((c) => c[which].map((s) => (s.op === 'run' ? s.script.text : s.op)))
    : [];

test('ensureService: what each state of the unit plans', () => {
  const started = { name: 'app', state: 'started', enabled: true } as const;
  const cases: Array<{
    what: string;
    params: Parameters<typeof ensureService>[0];
    service: ServiceFact;
    files?: string[];
    status: Plan['status'];
    steps?: string[];
    undo?: string[];
  }> = [
    { what: 'running and enabled', params: started, service: svc(), status: 'ok' },
    {
      what: 'a changed unit file alone is the restart handler’s business, not a change here',
      params: started,
      service: svc({ needsDaemonReload: true }),
      status: 'ok',
    },
    {
      what: 'stopped and disabled: enable, start; undo stops (no failed state left), then disables',
      params: started,
      service: svc({ active: 'inactive', enabled: 'disabled' }),
      status: 'change',
      steps: ['systemctl enable --quiet -- app.service', 'systemctl start -- app.service'],
      undo: [
        'systemctl stop -- app.service; systemctl reset-failed -- app.service 2>/dev/null || true',
        'systemctl disable --quiet -- app.service',
      ],
    },
    {
      what: 'a failed unit is started again',
      params: { name: 'app', state: 'started' },
      service: svc({ active: 'failed' }),
      status: 'change',
      steps: ['systemctl start -- app.service'],
      undo: [
        'systemctl stop -- app.service; systemctl reset-failed -- app.service 2>/dev/null || true',
      ],
    },
    {
      what: 'a stale unit is reloaded before it is started',
      params: { name: 'app', state: 'started' },
      service: svc({ active: 'inactive', needsDaemonReload: true }),
      status: 'change',
      steps: ['systemctl daemon-reload', 'systemctl start -- app.service'],
    },
    {
      what: 'a unit file not loaded yet (written this run) is loaded, enabled and started',
      params: started,
      service: svc({ exists: false, active: 'inactive', enabled: '' }),
      files: ['/etc/systemd/system/app.service'],
      status: 'change',
      steps: [
        'systemctl daemon-reload',
        'systemctl enable --quiet -- app.service',
        'systemctl start -- app.service',
      ],
    },
    {
      what: 'stop and disable',
      params: { name: 'app', state: 'stopped', enabled: false },
      service: svc(),
      status: 'change',
      steps: ['systemctl disable --quiet -- app.service', 'systemctl stop -- app.service'],
      undo: ['systemctl start -- app.service', 'systemctl enable --quiet -- app.service'],
    },
    {
      what: 'only enabled is managed: a stopped unit stays stopped',
      params: { name: 'app', enabled: true },
      service: svc({ active: 'inactive' }),
      status: 'ok',
    },
    {
      what: 'no unit anywhere: unknown (a package may bring it), never a guess',
      params: started,
      service: svc({ exists: false, active: 'inactive', enabled: '' }),
      status: 'unknown',
    },
    {
      what: 'masked: fail',
      params: started,
      service: svc({ enabled: 'masked', active: 'inactive' }),
      status: 'fail',
    },
    {
      what: 'no systemd: fail',
      params: started,
      service: svc({ manager: 'sysv' }),
      status: 'fail',
    },
  ];
  for (const c of cases) {
    const p = plan(c.params, c.service, c.files);
    assert.equal(p.status, c.status, c.what);
    if (c.steps !== undefined) assert.deepEqual(scripts(p, 'steps'), c.steps, c.what);
    if (c.undo !== undefined) assert.deepEqual(scripts(p, 'undo'), c.undo, c.what);
  }
});

test('ensureService: a start is verified; the effect tells later check-mode tasks it runs', () => {
  const p = plan({ name: 'app', state: 'started' }, svc({ active: 'inactive' }));
  assert.equal(p.status, 'change');
  if (p.status !== 'change') return;
  assert.match(p.verify?.[0]?.describe ?? '', /app\.service is active/);
  assert.deepEqual(p.changes[0]?.effects, [
    { kind: 'service', fact: { name: 'app', exists: true, active: 'active' } },
  ]);
});

test('ensureService: a task that manages nothing is refused before any host is touched', () => {
  assert.throws(
    () => ensureService({ name: 'app' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /give state .*enabled/);
      return true;
    },
  );
  // @ts-expect-error a misspelled state must not compile
  assert.throws(() => ensureService({ name: 'app', state: 'running' }), ConfigError);
});
