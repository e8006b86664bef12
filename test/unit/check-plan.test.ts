import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raw, sh } from '../../src/core/shell.ts';
import { planProblem } from '../../src/runner/check-plan.ts';

const change = (over: Record<string, unknown>) => ({
  status: 'change',
  changes: [{ summary: 'x', diff: [], steps: [], undo: [], effects: [], ...over }],
});
const write = (over: Record<string, unknown>) => ({
  op: 'write',
  path: '/etc/x',
  content: Buffer.from('x'),
  mode: '0644',
  owner: 'root',
  group: 'root',
  ...over,
});

// A custom task's plan is user data; what reaches a root shell is checked before anything runs.
const cases: Array<{ what: string; plan: unknown; problem: RegExp | null }> = [
  { what: 'ok', plan: { status: 'ok' }, problem: null },
  {
    what: 'a valid change',
    plan: change({ steps: [write({})], undo: [{ op: 'run', describe: 'u', script: sh`true` }] }),
    problem: null,
  },
  {
    what: 'raw code is allowed, explicitly',
    plan: change({ steps: [{ op: 'run', describe: 'r', script: raw('make install') }] }),
    problem: null,
  },
  {
    what: 'a mode with shell in it',
    plan: change({ steps: [write({ mode: '0644; rm -rf /' })] }),
    problem: /steps\[0\]\.mode: expected an octal mode/,
  },
  {
    what: 'an owner with shell in it',
    plan: change({ steps: [write({ owner: 'root$(id)' })] }),
    problem: /owner: expected a user or group name/,
  },
  {
    what: 'a relative path',
    plan: change({ steps: [write({ path: 'etc/x' })] }),
    problem: /path: expected an absolute path/,
  },
  {
    what: 'a path with a newline',
    plan: change({ steps: [write({ path: '/etc/a\nb' })] }),
    problem: /path: expected an absolute path/,
  },
  {
    what: 'content that is not a Buffer',
    plan: change({ steps: [write({ content: 'x' })] }),
    problem: /content must be a Buffer/,
  },
  {
    what: 'a validate without %s',
    plan: change({ steps: [write({ validate: 'nginx -t' })] }),
    problem: /validate must be a command containing %s/,
  },
  {
    what: 'a script as a plain string',
    plan: change({ steps: [{ op: 'run', describe: 'r', script: 'rm -rf /' }] }),
    problem: /script must be built with sh/,
  },
  {
    what: 'a write as undo',
    plan: change({ undo: [write({})] }),
    problem: /undo\[0\]\.op: undo steps must be run or remove steps/,
  },
  {
    what: 'a remove as afterUndo',
    plan: change({ afterUndo: [{ op: 'remove', path: '/srv/x' }] }),
    problem: /afterUndo\[0\]\.op: afterUndo steps must be run steps/,
  },
  {
    what: 'a remove of /',
    plan: change({ undo: [{ op: 'remove', path: '/' }] }),
    problem: /undo\[0\]\.path: expected an absolute path other than \//,
  },
  {
    what: 'onlyIf on a step (only undo and afterUndo steps have one)',
    plan: change({ steps: [{ op: 'run', describe: 'r', script: sh`true`, onlyIf: sh`true` }] }),
    problem: /steps\[0\]\.onlyIf: only undo and afterUndo steps have one/,
  },
  {
    what: 'removes as a plain string',
    plan: change({ undo: [{ op: 'run', describe: 'r', script: sh`true`, removes: 'echo /x' }] }),
    problem: /undo\[0\]\.removes must be built with sh/,
  },
  {
    what: 'an unknown op',
    plan: change({ steps: [{ op: 'exec' }] }),
    problem: /op must be "run", "write" or "remove"/,
  },
  { what: 'an unknown status', plan: { status: 'changed' }, problem: /status must be/ },
  {
    what: 'a diff part of no known kind',
    plan: change({ diff: [{ kind: 'text' }] }),
    problem: /diff\[0\]: kind must be/,
  },
  {
    what: 'no summary',
    plan: change({ summary: '' }),
    problem: /summary must be a non-empty string/,
  },
];

for (const c of cases) {
  test(`plan check: ${c.what}`, () => {
    const p = planProblem(c.plan);
    if (c.problem === null) assert.equal(p, null);
    else assert.match(p ?? '(no problem found)', c.problem);
  });
}
