// hostname: /etc/hostname and the running name, each changed only when it differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fact, FileFact } from '../../src/index.ts';
import { hostname } from '../../tasks/hostname.ts';
import { absent, file, planFrom } from './fixtures.ts';

/** A custom fact's value is what its parser made: here, the name. */
function plan(live: string, onDisk: FileFact) {
  return planFrom(hostname({ name: 'web1' }), undefined, (q) =>
    q.kind === 'custom' ? (live as unknown as Fact) : onDisk,
  );
}

const ROWS: readonly [string, string, FileFact, string[]][] = [
  ['both already web1', 'web1', file('/etc/hostname', 'web1\n'), []],
  [
    'the file says another name',
    'web1',
    file('/etc/hostname', 'old\n'),
    ['update file /etc/hostname (0644 root:root)'],
  ],
  [
    'the running name is another',
    'old',
    file('/etc/hostname', 'web1\n'),
    ['set the running host name: old -> web1'],
  ],
  [
    'neither, no file',
    'old',
    absent('/etc/hostname'),
    ['create file /etc/hostname (0644 root:root)', 'set the running host name: old -> web1'],
  ],
];

for (const [what, live, onDisk, want] of ROWS)
  test(`hostname: ${what}`, () => {
    const p = plan(live, onDisk);
    assert.deepEqual(p.status === 'change' ? p.changes.map((c) => c.summary) : [], want);
  });

test('hostname: a name that is not one is refused before any host', () => {
  assert.throws(() => hostname({ name: 'web_1' }), /name: expected a host name/);
  assert.throws(() => hostname({ name: '-web' }), /name: expected a host name/);
});
