// ensureGroup's plan, one case per row: params, the group as the host has it, the outcome with
// its steps and undo steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupFact, Plan, Step } from '../../src/index.ts';
import { ensureGroup, type EnsureGroupParams } from '../../tasks/ensureGroup.ts';
import { planFrom } from './fixtures.ts';

/** The group is the only fact ensureGroup reads. */
function plan(p: EnsureGroupParams, g: GroupFact): Plan {
  return planFrom(ensureGroup(p), undefined, () => g);
}

const text = (s: Step): string => (s.op === 'run' ? (s.script.text.split('\n').pop() ?? '') : s.op);

const ROWS: readonly [string, EnsureGroupParams, GroupFact, string | string[]][] = [
  [
    'missing -> groupadd --system',
    { name: 'app' },
    { name: 'app', exists: false, gid: null },
    ['groupadd --system -- app', 'if getent group app >/dev/null; then groupdel -- app; fi'],
  ],
  [
    'missing with a gid, not system',
    { name: 'app', gid: 1234, system: false },
    { name: 'app', exists: false, gid: null },
    ['groupadd --gid 1234 -- app', 'if getent group app >/dev/null; then groupdel -- app; fi'],
  ],
  [
    'there, no gid asked -> ok',
    { name: 'app' },
    { name: 'app', exists: true, gid: 998, members: [] },
    'ok',
  ],
  [
    'there with another gid -> groupmod, undone',
    { name: 'app', gid: 1234 },
    { name: 'app', exists: true, gid: 998, members: [] },
    ['groupmod --gid 1234 -- app', 'groupmod --gid 998 -- app'],
  ],
  [
    'absent, there with members -> groupdel; undo makes it again with them',
    { name: 'old', state: 'absent' },
    { name: 'old', exists: true, gid: 1500, members: ['ann', 'bob'] },
    ['groupdel -- old', 'groupadd --gid 1500 -- old && gpasswd -M ann,bob -- old >/dev/null'],
  ],
  [
    'absent, not there -> ok',
    { name: 'old', state: 'absent' },
    { name: 'old', exists: false, gid: null },
    'ok',
  ],
];

for (const [what, params, g, want] of ROWS)
  test(`ensureGroup: ${what}`, () => {
    const p = plan(params, g);
    const got =
      p.status === 'change'
        ? p.changes.flatMap((c) => [...c.steps.map(text), ...c.undo.map(text)])
        : p.status;
    assert.deepEqual(got, want);
  });

test('ensureGroup: the undo of a new group waits until no user has it as primary group', () => {
  const p = plan({ name: 'app' }, { name: 'app', exists: false, gid: null });
  const undo = p.status === 'change' ? p.changes[0]?.undo[0] : undefined;
  assert.match(
    undo?.op === 'run' ? (undo.onlyIf?.text ?? '') : '',
    /is still the primary group of/,
  );
  assert.throws(
    () => ensureGroup({ name: 'x', state: 'absent', gid: 5 }),
    /gid: not allowed when state is "absent"/,
  );
});
