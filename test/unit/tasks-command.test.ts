import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, type CommandFact, type Plan } from '../../src/index.ts';
import { command } from '../../tasks/command.ts';
import { absent, dir, plain, planFrom } from './fixtures.ts';

function plan(
  params: Parameters<typeof command>[0],
  state: { exists?: boolean; unlessCode?: number } = {},
): Plan {
  return planFrom(command(params), undefined, (q) => {
    if (q.kind === 'file') return state.exists === true ? dir(q.path, { size: 1 }) : absent(q.path);
    if (q.kind === 'command')
      return { code: state.unlessCode ?? 1, stdout: '' } satisfies CommandFact;
    return undefined;
  });
}

test('an unguarded command needs always: true', () => {
  assert.throws(
    () => command({ run: 'make install' }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.source.field === 'creates' &&
      e.message.startsWith(
        'give a guard (creates: a path the command makes, or unless: a check that exits 0 when it is done), or always: true',
      ) &&
      e.message.endsWith('an unguarded command is never idempotent'),
  );
  assert.throws(() => command({ run: 'make install', always: false }), /give a guard/);
  assert.doesNotThrow(() => command({ run: 'make install', always: true }));
  assert.throws(
    () => command({ run: 'x', creates: '/x', always: true }),
    /always: true cannot be combined with creates or unless/,
  );
});

test('params are checked when the task is built', () => {
  assert.throws(
    // @ts-expect-error a misspelled parameter must not compile (and fails validation at run time)
    () => command({ run: 'x', creats: '/opt/x' }),
    /creats: unknown field \(did you mean "creates"\?\)/,
  );
  assert.throws(
    () => command({ run: 'x', creates: 'opt/x' }),
    /creates: expected an absolute path/,
  );
  assert.throws(
    () => command({ run: '', always: true }),
    /run: expected value that must NOT have fewer than 1 characters/,
  );
});

test('probe: a file fact for creates, a command fact for unless', () => {
  assert.deepEqual(
    plain(
      command({ run: 'x', creates: '/opt/venv', unless: 'test -x /opt/venv/bin/python' }).probe(
        undefined,
      ),
    ),
    {
      creates: { kind: 'file', path: '/opt/venv', read: 'none' },
      unless: { kind: 'command', script: 'test -x /opt/venv/bin/python' },
    },
  );
  assert.deepEqual(command({ run: 'x', always: true }).probe(undefined), {});
});

test('guards say done -> ok with the reason', () => {
  assert.deepEqual(
    plan({ run: 'python3 -m venv /opt/venv', creates: '/opt/venv' }, { exists: true }),
    { status: 'ok', note: '/opt/venv exists' },
  );
  assert.deepEqual(plan({ run: 'x', unless: 'grep -q y /etc/z' }, { unlessCode: 0 }), {
    status: 'ok',
    note: 'the unless check passed (exit 0)',
  });
});

test('guards say not done -> run it; no undo, and the summary says so', () => {
  const p = plan({
    run: 'python3 -m venv /opt/venv',
    creates: '/opt/venv',
    describe: 'create the virtualenv',
  });
  assert.equal(p.status, 'change');
  if (p.status !== 'change') return;
  assert.deepEqual(plain(p.changes), [
    {
      summary: 'run: create the virtualenv (/opt/venv is missing; cannot be undone)',
      diff: [{ kind: 'item', sign: '~', text: 'run: create the virtualenv' }],
      steps: [
        { op: 'run', describe: 'create the virtualenv', script: 'python3 -m venv /opt/venv' },
      ],
      undo: [],
      effects: [],
    },
  ]);
  const u = plan({ run: 'echo y >> /etc/z', unless: 'grep -q y /etc/z' }, { unlessCode: 1 });
  assert.equal(
    u.status === 'change' && u.changes[0]?.summary,
    'run: echo y >> /etc/z (unless check exited 1; cannot be undone)',
  );
});

test('always: true -> a change on every run; long scripts are shortened for display only', () => {
  const script = `${'x'.repeat(80)}\nsecond line`;
  const p = plan({ run: script, always: true });
  assert.equal(p.status, 'change');
  if (p.status !== 'change') return;
  assert.equal(
    p.changes[0]?.diff[0]?.kind === 'item' && p.changes[0].diff[0].text,
    `run: ${'x'.repeat(57)}... (+1 lines)`,
  );
  assert.equal(p.changes[0]?.steps[0]?.op === 'run' && p.changes[0].steps[0].script.text, script);
});
