// timezone: /etc/localtime's link into /usr/share/zoneinfo and /etc/timezone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileFact } from '../../src/index.ts';
import { timezone } from '../../tasks/timezone.ts';
import { absent, file, planFrom } from './fixtures.ts';

const link = (target: string): FileFact => ({
  ...absent('/etc/localtime'),
  exists: true,
  type: 'symlink',
  linkTarget: target,
});

function plan(zone: FileFact, localtime: FileFact, named: FileFact) {
  return planFrom(timezone({ name: 'Europe/Berlin' }), undefined, (q) => {
    if (q.kind !== 'file') throw new Error(q.kind);
    return q.path === '/etc/localtime' ? localtime : q.path === '/etc/timezone' ? named : zone;
  });
}

const ZONE = file('/usr/share/zoneinfo/Europe/Berlin', 'TZif2');

test('timezone: from UTC, both the link and the name change', () => {
  const p = plan(ZONE, link('/usr/share/zoneinfo/Etc/UTC'), file('/etc/timezone', 'Etc/UTC\n'));
  assert.deepEqual(p.status === 'change' ? p.changes.map((c) => c.summary) : p, [
    'repoint symlink /etc/localtime -> /usr/share/zoneinfo/Europe/Berlin',
    'update file /etc/timezone (0644 root:root)',
  ]);
});

test('timezone: already set -> ok', () => {
  assert.equal(
    plan(ZONE, link('/usr/share/zoneinfo/Europe/Berlin'), file('/etc/timezone', 'Europe/Berlin\n'))
      .status,
    'ok',
  );
});

test('timezone: a zone tzdata does not have fails, naming it', () => {
  assert.deepEqual(
    plan(absent('/usr/share/zoneinfo/Europe/Berlin'), link('x'), absent('/etc/timezone')),
    {
      status: 'fail',
      message:
        'no time zone Europe/Berlin: /usr/share/zoneinfo/Europe/Berlin is not a zone file (is tzdata installed?)',
    },
  );
  assert.throws(() => timezone({ name: '../etc/passwd' }), /name: expected a time zone/);
});
