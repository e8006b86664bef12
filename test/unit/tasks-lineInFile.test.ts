// lineInFile and blockInFile as tasks: what they read, the file they plan, and their params'
// rules (the edits themselves are line-edit.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileFact, Plan } from '../../src/index.ts';
import { blockInFile } from '../../tasks/blockInFile.ts';
import { lineInFile } from '../../tasks/lineInFile.ts';
import { absent, answerFrom, dir, file, planFrom } from './fixtures.ts';

const P = '/etc/ssh/sshd_config';

function plan(task: ReturnType<typeof lineInFile>, at: FileFact): Plan {
  return planFrom(
    task,
    undefined,
    answerFrom({ files: { [P]: at }, otherwise: (p) => dir(p), users: [], groups: [] }),
  );
}

test('lineInFile: the file keeps its own mode and owner; only the line changes', () => {
  const p = plan(
    lineInFile({ path: P, regexp: '^#?PermitRootLogin', line: 'PermitRootLogin no' }),
    file(P, 'PermitRootLogin yes\n', { mode: '0600', owner: 'root', group: 'ssh' }),
  );
  assert.equal(p.status, 'change');
  const c = p.status === 'change' ? p.changes[0] : undefined;
  const write = c?.steps.find((s) => s.op === 'write');
  assert.ok(write?.op === 'write');
  assert.equal(write.content.toString(), 'PermitRootLogin no\n');
  assert.deepEqual([write.mode, write.owner, write.group], ['0600', 'root', 'ssh']);
  assert.match(JSON.stringify(c?.diff), /-PermitRootLogin yes.*\+PermitRootLogin no/);
});

test('lineInFile: a missing file is an error unless create; absent on a missing file is ok', () => {
  assert.deepEqual(plan(lineInFile({ path: P, line: 'x' }), absent(P)), {
    status: 'fail',
    message: `${P} does not exist (give create: true to make it)`,
  });
  const created = plan(lineInFile({ path: P, line: 'x', create: true }), absent(P));
  assert.equal(created.status, 'change');
  assert.equal(plan(lineInFile({ path: P, line: 'x', state: 'absent' }), absent(P)).status, 'ok');
});

test('lineInFile: converged -> ok', () => {
  assert.equal(
    plan(lineInFile({ path: P, line: 'UsePAM yes' }), file(P, 'UsePAM yes\n')).status,
    'ok',
  );
});

test('blockInFile: a block added, then ok', () => {
  const p = plan(
    blockInFile({ path: P, block: 'Match User git\n  X11Forwarding no' }),
    file(P, 'a\n'),
  );
  const write =
    p.status === 'change' ? p.changes[0]?.steps.find((s) => s.op === 'write') : undefined;
  assert.equal(
    write?.op === 'write' && write.content.toString(),
    'a\n# BEGIN FLEETBOOK MANAGED BLOCK\nMatch User git\n  X11Forwarding no\n# END FLEETBOOK MANAGED BLOCK\n',
  );
  assert.equal(
    plan(
      blockInFile({ path: P, block: 'x' }),
      file(P, '# BEGIN FLEETBOOK MANAGED BLOCK\nx\n# END FLEETBOOK MANAGED BLOCK\n'),
    ).status,
    'ok',
  );
});

const BAD: readonly [string, () => unknown, RegExp][] = [
  [
    'line required when present',
    () => lineInFile({ path: P, regexp: 'x' }),
    /line: required when state is "present"/,
  ],
  [
    'absent needs regexp or line',
    () => lineInFile({ path: P, state: 'absent' }),
    /regexp: give regexp or line when state is "absent"/,
  ],
  [
    'insertAfter and insertBefore',
    () => lineInFile({ path: P, line: 'x', insertAfter: 'a', insertBefore: 'b' }),
    /insertBefore: give only one of insertAfter or insertBefore/,
  ],
  [
    'backrefs without regexp',
    () => lineInFile({ path: P, line: 'x', backrefs: true }),
    /regexp: required when backrefs is true/,
  ],
  [
    'a regexp that does not compile',
    () => lineInFile({ path: P, line: 'x', regexp: '(' }),
    /regexp: not a regular expression/,
  ],
  [
    'a block with state absent',
    () => blockInFile({ path: P, state: 'absent', block: 'x' }),
    /block: not allowed when state is "absent"/,
  ],
  [
    'a marker without {mark}',
    () => blockInFile({ path: P, block: 'x', marker: '# APP' }),
    /marker: expected one line containing \{mark\}/,
  ],
];

for (const [what, make, error] of BAD)
  test(`params: ${what}`, () => {
    assert.throws(make, error);
  });
