// systemdUnit's plan, one case per row: the unit file there, systemd's view of the unit, and the
// plan's changes as `summary | steps | undo | after undo`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, FileFact, Plan, ServiceFact, Step } from '../../src/index.ts';
import { systemdUnit, type SystemdUnitParams } from '../../tasks/systemdUnit.ts';
import {
  absent,
  answerFrom,
  changeRow,
  dir,
  file,
  planRows,
  preparePlan,
  service,
} from './fixtures.ts';

const PATH = '/etc/systemd/system/app.service';
const UNIT = '[Unit]\nDescription=app\n\n[Service]\nExecStart=/usr/local/bin/app\n';

async function plan(params: SystemdUnitParams, at: FileFact, svc: ServiceFact): Promise<Plan> {
  const files = answerFrom({ files: { [PATH]: at }, otherwise: dir });
  return preparePlan(systemdUnit(params), (q) => (q.kind === 'service' ? svc : files(q)));
}

const stepText = (s: Step): string =>
  s.op === 'run'
    ? s.describe
    : s.op === 'write'
      ? `write ${s.path} (validate: ${s.validate ?? 'none'})`
      : `remove ${s.path}`;

const row = (c: Change): string =>
  `${changeRow(c, stepText)} | ${(c.afterUndo ?? []).map(stepText).join('; ')}`;

const notLoaded = service('app.service', { exists: false, active: 'inactive', enabled: '' });

const ROWS: readonly [
  string,
  SystemdUnitParams,
  FileFact,
  ServiceFact,
  string | readonly string[],
][] = [
  [
    'a new unit: verified, written, then daemon-reload; rollback reloads after the restore',
    { name: 'app.service', content: UNIT },
    absent(PATH),
    notLoaded,
    [
      `create file ${PATH} (0644 root:root) | write ${PATH} (validate: systemd-analyze verify %s); systemctl daemon-reload |  | systemctl daemon-reload`,
    ],
  ],
  [
    'the same unit, loaded',
    { name: 'app.service', content: UNIT },
    file(PATH, UNIT),
    service('app.service'),
    'ok',
  ],
  [
    'the same unit, but systemd read an older one: only the reload',
    { name: 'app.service', content: UNIT },
    file(PATH, UNIT),
    service('app.service', { needsDaemonReload: true }),
    [
      `systemctl daemon-reload (${PATH} changed since systemd read it) | systemctl daemon-reload |  | `,
    ],
  ],
  [
    'verify off: no validate command',
    { name: 'app.service', content: UNIT, verify: false },
    file(PATH, 'old\n'),
    service('app.service'),
    [
      `update file ${PATH} (0644 root:root) | write ${PATH} (validate: none); systemctl daemon-reload |  | systemctl daemon-reload`,
    ],
  ],
  [
    'absent, a stopped unit: its file kept in the backups, then reload',
    { name: 'app.service', state: 'absent' },
    file(PATH, UNIT),
    service('app.service', { active: 'inactive' }),
    [
      `remove unit file ${PATH} (kept in the run's backups) | remove ${PATH}; systemctl daemon-reload |  | systemctl daemon-reload`,
    ],
  ],
  [
    'absent while it runs: refused',
    { name: 'app.service', state: 'absent' },
    file(PATH, UNIT),
    service('app.service'),
    'fail: app.service is active: stop it first (ensureService state stopped), then remove its file',
  ],
  ['absent, no file', { name: 'app.service', state: 'absent' }, absent(PATH), notLoaded, 'ok'],
  [
    'no systemd on the host',
    { name: 'app.service', content: UNIT },
    absent(PATH),
    service('app.service', { manager: 'sysv' }),
    'fail: systemdUnit needs systemd running on the host (found: sysv)',
  ],
];

for (const [what, params, at, svc, want] of ROWS)
  test(`systemdUnit: ${what}`, async (t) => {
    const got = planRows(await plan(params, at, svc), row);
    t.diagnostic(JSON.stringify(got));
    assert.deepEqual(got, want);
  });

test('systemdUnit: params are checked before any host', () => {
  assert.throws(
    () => systemdUnit({ name: 'app', content: UNIT }),
    /name: expected a unit name with its type/,
  );
  assert.throws(() => systemdUnit({ name: 'app.service' }), /give src or content/);
  assert.throws(
    () => systemdUnit({ name: 'app.service', state: 'absent', content: UNIT }),
    /content: not allowed when state is "absent"/,
  );
});
