import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tasks from 'fleetbook/tasks';
import { README, taskReference, withReference } from '../../scripts/task-reference.ts';

test("the README's task reference is the one the schemas generate (npm run docs rewrites it)", async () => {
  const readme = readFileSync(README, 'utf8');
  const generated = withReference(readme, await taskReference());
  assert.equal(
    readme,
    generated,
    'README.md is out of date with the task schemas: run `npm run docs`',
  );
});

test('every built-in task is in the reference, with a summary', async () => {
  const reference = await taskReference();
  const all = Object.values(tasks).filter((t) => typeof t === 'function' && 'schema' in t);
  assert.ok(all.length >= 10);
  for (const t of all as unknown as { type: string; schema: { doc?: string } }[]) {
    assert.match(reference, new RegExp(`### \`${t.type}\``));
    assert.ok((t.schema.doc ?? '').length > 0, `${t.type} has no doc on its params schema`);
  }
});
