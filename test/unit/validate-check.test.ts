import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocal } from './fixtures.ts';

// A write's validate command runs in check mode too, on the new content, leaving no trace: a
// config the validator rejects fails the dry run as it would fail the real one.
const work = mkdtempSync(join(tmpdir(), 'fb-validate-'));
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'environment: development\nhosts:\n  self: { connection: local }\n');
process.env.FLEETBOOK_STATE_DIR = join(work, 'state');
process.env.FB_DIR = work;

async function check(content: string, before = false): Promise<string[][]> {
  process.env.FB_CONTENT = content;
  process.env.FB_BEFORE = before ? '1' : '0';
  const r = await runLocal('test/fixtures/playbooks/local-validate.ts', inventory, true);
  return r.ends.map((e) => [
    e.task.replace(work, 'W'),
    e.outcome,
    (e.message ?? '').replace(work, 'W'),
  ]);
}

test('content the validator accepts: would change', async () => {
  assert.deepEqual(await check('ok\n'), [['copyFile W/app.conf', 'would-change', '']]);
});

test('content the validator rejects fails the dry run, quoting the validator', async () => {
  assert.deepEqual(await check('bad\n'), [
    ['copyFile W/app.conf', 'failed', 'validate rejects the new W/app.conf: app.conf: no ok in it'],
  ]);
});

test('after an earlier would-change the host as it is now cannot say: unknown, with why', async () => {
  const [, copy] = await check('bad\n', true);
  assert.equal(copy?.[1], 'unknown');
  assert.match(
    copy?.[2] ?? '',
    /^validate rejects the new W\/app\.conf on the host as it is now, before the changes earlier tasks would make: app\.conf: no ok in it$/,
  );
});

test('check mode leaves no trace of the validated content', async () => {
  await check('bad\n');
  await check('ok\n');
  assert.equal(existsSync(join(work, 'app.conf')), false);
  assert.deepEqual(
    readdirSync(work).filter((f) => f.startsWith('.fleetbook-')),
    [],
  );
});
