import { test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlaybook, ConfigError } from '../../src/index.ts';
import { checkEnvironment } from '../../src/core/environments.ts';
import { ensureDir } from '../../tasks/index.ts';
import { host } from './fixtures.ts';

const dir = (p: string) => ensureDir({ path: p });

test('task lists nest and are flattened in order; false, null and undefined drop at any depth', () => {
  const pb = definePlaybook({
    name: 'nested',
    hosts: 'all',
    tasks: () => [[dir('/a'), [false, dir('/b')]], undefined, [[null, [dir('/c')]]]],
  });
  assert.deepEqual(
    pb.contentsFor(host).tasks.map((t) => t.title),
    ['ensureDir /a', 'ensureDir /b', 'ensureDir /c'],
  );
});

test('anything else in a task list is an error naming its position', () => {
  const bad = (tasks: unknown[]) =>
    definePlaybook({ name: 'bad', hosts: 'all', tasks: tasks as never }).contentsFor(host);
  assert.throws(
    () => bad([dir('/a'), [dir('/b'), 'ensureDir /c']]),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        'tasks[1][1]: expected a task (made by a task factory such as ensureDir({...})) or a role, got the string "ensureDir /c"',
  );
  assert.throws(
    () => bad([ensureDir]),
    /tasks\[0\]: .*got a function \(.*\): call it to make the task/,
  );
  assert.throws(
    () => bad([{ type: 'ensureDir' }]),
    /tasks\[0\]: .*got an object that is not a task/,
  );
});

const envCases: Array<{ name: string; declared: string[]; error: RegExp | null }> = [
  { name: 'production', declared: [], error: null },
  { name: 'lab', declared: [], error: null },
  { name: 'qa', declared: ['qa'], error: null },
  {
    name: 'prod',
    declared: [],
    error: /"prod" is not a known environment \(did you mean "production"\?\)/,
  },
  { name: 'stagign', declared: [], error: /did you mean "staging"/ },
  {
    name: 'qa',
    declared: [],
    error: /known: production, staging, development, lab\. Declare others/,
  },
];

for (const c of envCases) {
  test(`environment ${c.name} (declared: ${c.declared.join(',') || 'none'})`, () => {
    const run = () => {
      checkEnvironment(c.name, c.declared, 'inv.yaml');
    };
    if (c.error === null) assert.doesNotThrow(run);
    else assert.throws(run, c.error);
  });
}

test('a playbook that throws while imported is reported with its file and line', async () => {
  const { loadPlaybook } = await import('../../src/runner/load-playbook.ts');
  await assert.rejects(loadPlaybook('test/fixtures/playbooks/throws.ts'), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(
      e.describe(),
      'test/fixtures/playbooks/throws.ts: cannot load playbook: no hosts configured (at test/fixtures/playbooks/throws.ts:3:31)',
    );
    return true;
  });
});
