import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definePlaybook, ConfigError, withResult } from '../../src/index.ts';
import { ensureDir, ensureUser } from '../../tasks/index.ts';
import { resolveInventory } from '../../src/inventory/load.ts';
import { prepareHost } from '../../src/runner/prepare.ts';
import { runLocal } from './fixtures.ts';

// Task results through the whole runner, on the controller itself (connection: local).
const work = mkdtempSync(join(tmpdir(), 'fb-results-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'environment: development\nhosts:\n  self: { connection: local }\n');
process.env.FLEETBOOK_STATE_DIR = join(work, 'state');
process.env.FB_DIR = work;

async function run(check: boolean, bad = false): Promise<{ ends: string[][]; exitCode: number }> {
  process.env.FB_BAD = bad ? '1' : '0';
  const r = await runLocal('test/fixtures/playbooks/local-results.ts', inventory, check);
  const ends = r.ends.map((e) => [e.task.replace(work, 'W'), e.outcome, e.message ?? '']);
  return { ends, exitCode: r.exitCode };
}

test('a result check mode cannot know makes its tasks unknown; the real run makes them from it', async () => {
  const c1 = await run(true);
  assert.deepEqual(c1.ends, [
    ['ensureDir W/made', 'would-change', ''],
    // `changed` is known before the change: the task made from it is planned
    ['copyFile W/made/first', 'would-change', ''],
    ['command make a token', 'would-change', ''],
    [
      'withResult command make a token',
      'unknown',
      'depends on the result of "command make a token": check mode cannot know it before "command make a token" has run',
    ],
  ]);
  assert.equal(existsSync(join(work, 'made')), false, '--check created the directory');

  const a1 = await run(false);
  assert.equal(a1.exitCode, 0);
  assert.deepEqual(
    a1.ends.map(([t, o]) => [t, o]),
    [
      ['ensureDir W/made', 'changed'],
      ['copyFile W/made/first', 'changed'],
      ['command make a token', 'changed'],
      ['copyFile W/made/token', 'changed'],
    ],
  );
  assert.equal(readFileSync(join(work, 'made/first'), 'utf8'), 'new directory: true\n');
  assert.equal(readFileSync(join(work, 'made/token'), 'utf8'), 'token-42\n');

  // Converged: the directory is there (changed: false, so the file made from it would change) and
  // the command's guard holds (ran: false: no task is made).
  const c2 = await run(true);
  assert.deepEqual(
    c2.ends.map(([t, o]) => [t, o]),
    [
      ['ensureDir W/made', 'ok'],
      ['copyFile W/made/first', 'would-change'],
      ['command make a token', 'ok'],
    ],
  );
});

test('a bad task made from a result fails the host, naming it and its field; the run is rolled back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-results-bad-'));
  process.env.FB_DIR = dir;
  try {
    const r = await run(false, true);
    assert.equal(r.exitCode, 2);
    const last = r.ends.at(-1) ?? [];
    assert.equal(last[1], 'failed');
    assert.match(
      last[2] ?? '',
      /the tasks made from the result of "command make a token": task copyFile: dest: expected an absolute path/,
    );
    // The file made before is removed again; the directory stays, holding the command's stamp
    // (a command cannot be undone).
    assert.equal(existsSync(join(dir, 'made/first')), false, 'the run was not rolled back');
    assert.equal(existsSync(join(dir, 'made/stamp')), true);
  } finally {
    process.env.FB_DIR = work;
  }
});

const inv = resolveInventory(
  { environment: 'development', hosts: { web1: { address: '10.0.0.1' } } },
  'inventories/dev.yaml',
);
const web1 = inv.hosts[0] ?? assert.fail('the inventory has web1');

test('a withResult entry whose task does not run before it is refused before any connection', async () => {
  const user = ensureUser({ name: 'app' });
  const later = withResult(user, (u) => ensureDir({ path: u.home }));
  const cases = [
    { tasks: [later, user], tags: undefined },
    { tasks: [later], tags: undefined },
    { tasks: [{ ...user, options: { tags: ['users'] } }, later], tags: ['users'] },
  ];
  for (const c of cases) {
    const pb = definePlaybook({ name: 'p', hosts: 'all', tasks: c.tasks });
    await assert.rejects(
      prepareHost(pb, 'playbooks/site.ts', inv, web1, { skipTags: c.tags }, {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /withResult: the task it reads, "ensureUser app", does not run before it/,
        );
        assert.deepEqual(
          [err.source.file, err.source.task],
          ['playbooks/site.ts', '"withResult ensureUser app"'],
        );
        return true;
      },
    );
  }
  const handler = definePlaybook({ name: 'p', hosts: 'all', tasks: [user], handlers: [later] });
  await assert.rejects(
    prepareHost(handler, 'p.ts', inv, web1, {}, {}),
    /a withResult entry cannot be a handler/,
  );
});
