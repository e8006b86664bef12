// cronJob: the cron.d file it writes, and the params it refuses before any host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronFile, cronJob } from '../../tasks/cronJob.ts';
import { absent, answerFrom, dir, file, planFrom } from './fixtures.ts';

test('cronJob: the file holds the header, the environment and the job line', () => {
  assert.equal(
    cronFile({
      name: 'backup',
      schedule: '30  2 * * 1-5',
      user: 'app',
      command: '/usr/local/bin/backup --quiet',
      env: { MAILTO: 'ops@example.org', PATH: '/usr/bin:/bin' },
    }),
    '# Managed by fleetbook (cronJob backup): local edits are overwritten.\nMAILTO=ops@example.org\nPATH=/usr/bin:/bin\n30 2 * * 1-5 app /usr/local/bin/backup --quiet\n',
  );
});

test('cronJob: planned as /etc/cron.d/NAME root 0644; a user that does not exist fails it', () => {
  const make = (users: string[]) =>
    planFrom(
      cronJob({ name: 'sync', schedule: '@hourly', user: 'app', command: 'true' }),
      undefined,
      answerFrom({
        files: { '/etc/cron.d/sync': absent('/etc/cron.d/sync') },
        otherwise: (p) => dir(p),
        users,
        groups: [],
      }),
    );
  const p = make(['app']);
  const write =
    p.status === 'change' ? p.changes[0]?.steps.find((s) => s.op === 'write') : undefined;
  assert.ok(write?.op === 'write');
  assert.deepEqual([write.path, write.mode, write.owner], ['/etc/cron.d/sync', '0644', 'root']);
  assert.deepEqual(make([]), {
    status: 'fail',
    message:
      'user app does not exist, so /etc/cron.d/sync would never run (create it in an earlier task, e.g. ensureUser)',
  });
});

test('cronJob: absent keeps the removed file for undo', () => {
  const p = planFrom(
    cronJob({ name: 'sync', state: 'absent' }),
    undefined,
    answerFrom({
      files: { '/etc/cron.d/sync': file('/etc/cron.d/sync', 'x') },
      otherwise: (q) => dir(q),
      users: [],
      groups: [],
    }),
  );
  assert.deepEqual(p.status === 'change' ? p.changes[0]?.steps : [], [
    { op: 'remove', path: '/etc/cron.d/sync' },
  ]);
});

const BAD: readonly [string, () => unknown, RegExp][] = [
  [
    'a schedule of four fields',
    () => cronJob({ name: 'x', schedule: '* * * *', command: 'true' }),
    /schedule: expected five cron fields/,
  ],
  [
    'a % in the command',
    () => cronJob({ name: 'x', schedule: '@daily', command: 'date +%F' }),
    /command: expected one line without %/,
  ],
  [
    'a dot in the name',
    () => cronJob({ name: 'x.sh', schedule: '@daily', command: 'true' }),
    /name: expected letters, digits/,
  ],
  [
    'no command',
    () => cronJob({ name: 'x', schedule: '@daily' }),
    /command: required when state is "present"/,
  ],
];
for (const [what, make, error] of BAD)
  test(`cronJob params: ${what}`, () => {
    assert.throws(make, error);
  });
